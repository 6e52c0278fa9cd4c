# The README's two commands, plus a few helpers. The scripts do the work so that each step
# can also be run by hand.
.PHONY: run test bench lint format messages

run:
	scripts/run.sh

test:
	scripts/test.sh $(ARGS)

# Benchmarks print their figures and, last, their ratio to an anchor measured in the same
# run (bench/README.md). BENCH="search_scale" runs one; ARGS go to each.
BENCH ?= search_scale serving registration transfer purge_memory integrity
bench:
	scripts/install-deps.sh bench
	scripts/services.sh
	for b in $(BENCH); do echo "== $$b"; .venv/bin/python bench/$$b.py $(ARGS) || exit 1; done

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# Settings must load (a throwaway key), or manage.py falls back to Django's own makemessages,
# which does not read the Jinja2 templates (search/management/commands/makemessages.py).
messages:
	DJANGO_SECRET_KEY="$$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
	  .venv/bin/python manage.py makemessages -l ru --ignore=.venv --ignore=tests --no-obsolete
