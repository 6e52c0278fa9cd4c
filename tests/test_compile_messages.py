"""The message catalogues are compiled wherever a checkout runs (``make run``, ``make test``,
the deployment without Docker, all through scripts/compile-messages.sh): the .mo files are
not in git, and without them the project's own strings show in English beside Django's
Russian ones."""

import os
import subprocess

from tests.helpers import PYTHON, REPO

PO = REPO / "locale" / "ru" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# The project's own strings, not Django's: a fresh process must show them in Russian.
PROBE = """
import django
django.setup()
from django.utils import translation
translation.activate("ru")
print(translation.gettext("purge schedule"))
print(translation.pgettext("beat entry", "Storage purge"))
"""


def make_stale() -> None:
    """The .mo older than the .po, as after a `git pull` that changed the catalogue."""
    if MO.exists():
        old = PO.stat().st_mtime - 3600
        os.utime(MO, (old, old))


def translated_in_a_fresh_process() -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opvideo.settings", "DJANGO_SECRET_KEY": "x"}
    result = subprocess.run(
        [PYTHON, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def assert_compiled() -> None:
    assert MO.exists()
    assert MO.stat().st_mtime >= PO.stat().st_mtime
    assert translated_in_a_fresh_process() == ["расписание очистки", "Очистка хранилища"]


def test_the_script_recompiles_a_catalogue_older_than_its_source():
    make_stale()
    result = subprocess.run(
        [str(REPO / "scripts" / "compile-messages.sh")],
        env={**os.environ, "PYTHON": PYTHON},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert_compiled()


def test_make_run_make_test_and_the_readme_compile_them():
    # Each before what loads the catalogue: the server, the test run.
    for script, then in (
        ("run.sh", "exec $py manage.py runserver"),
        ("test.sh", "exec .venv/bin/pytest"),
    ):
        text = (REPO / "scripts" / script).read_text()
        assert "scripts/compile-messages.sh" in text, script
        assert text.index("compile-messages.sh") < text.index(then), script
    readme = (REPO / "README.md").read_text()
    assert "scripts/compile-messages.sh" in readme.split("### Without Docker")[1]
