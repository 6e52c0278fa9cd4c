"""The settings contract: every variable documented, and the production set passes
Django's deployment checks.

The web service reads the environment (documented in .env.example); the workstation client
reads /etc/opvideo/db.conf (documented in client_agent/deploy/db.conf.example)."""

import re
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.helpers import REPO, manage

ENV_READ = re.compile(r"""env(?:_secret|\.\w+)\(\s*(?:f?)["']([A-Z][A-Z0-9_]+)["']""")


WEB_EXAMPLE = REPO / ".env.example"
CLIENT_EXAMPLE = REPO / "client_agent" / "deploy" / "db.conf.example"
# Each example documents the variables of its settings modules.
EXAMPLES = {
    WEB_EXAMPLE: [REPO / "opvideo" / "settings.py"],
    CLIENT_EXAMPLE: sorted(REPO.glob("client_agent/settings*.py")),
}


def env_example(path: Path = WEB_EXAMPLE) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_setting_read_is_documented(example):
    read = set()
    for path in EXAMPLES[example]:
        read |= set(ENV_READ.findall(path.read_text()))
    assert "DATABASE_URL" in read  # the pattern really finds env reads
    missing = read - set(env_example(example))
    assert not missing, f"not in {example.name}: {sorted(missing)}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_documented_variable_has_an_explanation(example):
    # A variable (or a group of related ones) sits right under the comment explaining it.
    explained = False
    for line in example.read_text().splitlines():
        if not line.strip():
            explained = False
        elif line.startswith("#"):
            explained = True
        else:
            assert explained, f"no explanation above: {line}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_no_secret_is_filled_in_the_example(example):
    values = env_example(example)
    for name in (
        "DJANGO_SECRET_KEY",
        "DATABASE_PASSWORD",
        "FIELD_ENCRYPTION_KEYS",
        "REDIS_PASSWORD",
    ):
        if name in values:
            assert values[name] == "", f"{name} must be empty in {example.name}"
    assert "FIELD_ENCRYPTION_KEYS" in values


def test_deploy_check_passes_with_the_production_variables(tmp_path):
    env = env_example()
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_PASSWORD=secrets.token_urlsafe(16),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_debug_is_left_on(tmp_path):
    env = env_example()
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_DEBUG="true",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_missing_secret_key_is_a_clear_error():
    env = env_example()
    result = manage("check", env={**env, "DJANGO_SECRET_KEY": ""}, check=False)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
