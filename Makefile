# The README's two commands, plus a few helpers. The scripts do the work so that each step
# can also be run by hand.
.PHONY: run test lint format messages

run:
	scripts/run.sh

test:
	scripts/test.sh $(ARGS)

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

messages:
	.venv/bin/python manage.py makemessages -l ru --ignore=.venv --ignore=tests --no-obsolete
