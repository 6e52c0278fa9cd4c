"""Reading the deployment files the way the tests need them."""

import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.helpers import REPO

STACK_FILE = REPO / "docker-compose.yml"
CI_FILE = REPO / ".gitlab-ci.yml"
STACK_NAME = "opvideo"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A linter from requirements-dev.txt (installed in the virtualenv next to pytest)."""
    path = VENV_BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def load_yaml(path: Path) -> dict:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def check_jsonschema(path: Path, schema: str, *extra: str) -> subprocess.CompletedProcess:
    """check-jsonschema with a schema vendored in its package: nothing is downloaded."""
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, *extra, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def compose_check(path: Path) -> subprocess.CompletedProcess:
    return check_jsonschema(path, "vendor.compose-spec")


def gitlab_ci_check(path: Path) -> subprocess.CompletedProcess:
    # The transform resolves GitLab's `!reference` tags, which plain YAML does not know.
    return check_jsonschema(path, "vendor.gitlab-ci", "--data-transform", "gitlab-ci")


def zones_in(stack: dict) -> set[str]:
    return {name.removeprefix("nginx_") for name in stack["services"] if name.startswith("nginx_")}
