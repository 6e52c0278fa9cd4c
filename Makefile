# The README's two commands, plus a few helpers. The scripts do the work so that each step
# can also be run by hand.
.PHONY: run test bench lint format messages lock

run:
	scripts/run.sh

test:
	scripts/test.sh $(ARGS)

# Benchmarks print their figures and, last, their ratio to an anchor measured in the same
# run (bench/README.md). BENCH="search_scale" runs one; ARGS go to each.
BENCH ?= search_scale dashboard serving registration transfer purge_memory integrity first_frame
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

# The hashed lock files, from the .in files beside them (README, Python packages: hashed lock files).
# Pins already in a lock are kept; LOCK_ARGS=--upgrade takes the newest dependencies the .in
# pins allow, LOCK_ARGS="-P celery" one package. The runtime, lint and client locks are made
# within the ones above them, so a package has one version everywhere. Hashes are of the
# package index's own files: no pip configuration file (a local mirror, a wheel cache) is read.
PIP_COMPILE = env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	.venv/bin/pip-compile --quiet --generate-hashes --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	scripts/install-deps.sh lock
	$(PIP_COMPILE) --allow-unsafe requirements-pip.in -o requirements-pip.txt
	$(PIP_COMPILE) requirements.in -o requirements.txt
	$(PIP_COMPILE) --allow-unsafe -c requirements.txt -c requirements-pip.txt \
	  requirements-dev.in -o requirements-dev.txt
	$(PIP_COMPILE) -c requirements-dev.txt requirements-lint.in -o requirements-lint.txt
	$(PIP_COMPILE) -c requirements.txt client_agent/requirements.in -o client_agent/requirements.txt
