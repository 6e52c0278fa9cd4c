"""What installs and runs the client on a workstation: db.conf, the systemd unit, logrotate,
the ansible role, and the client's own small set of requirements and imports. Checked with
the real tools (systemd-analyze, logrotate, ansible) where they run here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from client_agent.conf import config_file_read
from tests.helpers import PYTHON, REPO

DEPLOY = REPO / "client_agent" / "deploy"
ROLE = REPO / "client_agent" / "ansible" / "roles" / "opvideo_client"
ANSIBLE_BIN = Path(sys.executable).parent


def client_python(code: str, *, config: Path, cwd: Path) -> str:
    """Run ``code`` after setting up the client's own Django settings from ``config``, in a
    fresh interpreter with nothing of this process's environment but PATH; return stdout."""
    setup = (
        "import os, sys\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'client_agent.settings'\n"
        "import django; django.setup()\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", setup + code],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "OPVIDEO_CLIENT_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def client_settings(config: Path, *names: str, cwd: Path = REPO) -> dict:
    """Settings the client builds from ``config``, read in a fresh interpreter."""
    code = (
        "import json\n"
        "from django.conf import settings\n"
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))\n"
    )
    return json.loads(client_python(code, config=config, cwd=cwd))


def test_the_example_db_conf_shows_the_defaults(tmp_path):
    example = config_file_read(path=DEPLOY / "db.conf.example")
    minimal = tmp_path / "db.conf"
    minimal.write_text(f"DATABASE_URL={example['DATABASE_URL']}\n")
    names = [n for n in example if n.startswith("OPVIDEO_")] + ["TIME_ZONE", "LOG_LEVEL"]

    assert client_settings(DEPLOY / "db.conf.example", *names) == client_settings(minimal, *names)


def test_the_unit_runs_the_client_and_systemd_accepts_it(tmp_path):
    unit = (DEPLOY / "opvideo.service").read_text()
    assert "ExecStart=/opt/opvideo/venv/bin/python -m client_agent run" in unit
    assert "WorkingDirectory=/opt/opvideo/app" in unit
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # Verified as installed, with the paths of this checkout (verify checks they exist).
    local = tmp_path / "opvideo.service"
    local.write_text(
        unit.replace("/opt/opvideo/venv/bin/python", os.path.realpath(PYTHON)).replace(
            "/opt/opvideo/app", str(REPO)
        )
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(local)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "opvideo.service" not in result.stderr, result.stderr  # no warning about it


def test_logrotate_rotates_exactly_the_client_logs(tmp_path):
    text = (DEPLOY / "opvideo.logrotate").read_text()
    example = config_file_read(path=DEPLOY / "db.conf.example")
    header = next(line for line in text.splitlines() if line.endswith("{"))
    assert header.split()[:-1] == [example["OPVIDEO_RSYNC_LOG"], example["OPVIDEO_ERROR_LOG"]]
    if shutil.which("logrotate") is None:
        pytest.skip("logrotate is not installed")
    result = subprocess.run(
        [
            "logrotate",
            "--debug",
            "--state",
            str(tmp_path / "state"),
            str(DEPLOY / "opvideo.logrotate"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    output = result.stderr + result.stdout
    assert not re.search(r"^error:", output, re.MULTILINE), output
    assert "Handling 1 logs" in output


def test_client_requirements_are_the_projects_pins():
    def pins(path: Path) -> dict[str, str]:
        found = {}
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                name, version = line.split()[0].split("==")
                found[name.lower()] = version
        return found

    client, project = (
        pins(REPO / "client_agent" / "requirements.txt"),
        pins(REPO / "requirements.txt"),
    )
    assert client
    assert {name: project.get(name) for name in client} == client


def test_the_client_needs_only_client_agent_zones_and_storage(tmp_path):
    # Exactly what the ansible role installs (git archive of these three and the README).
    for package in ("client_agent", "zones", "storage"):
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    config = tmp_path / "db.conf"
    config.write_text("DATABASE_URL=mysql://u@127.0.0.1:1/x\n")
    code = (
        "import client_agent.cli, client_agent.services, client_agent.diagnostics\n"
        "import client_agent.runner, client_agent.grants\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'opvideo', 'search', 'celery'})\n"
        "print(','.join(bad))\n"
    )
    assert client_python(code, config=config, cwd=tmp_path).strip() == ""


# --- the ansible role ------------------------------------------------------------------------


def ansible(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    tool = ANSIBLE_BIN / args[0]
    if not tool.exists():
        pytest.skip(f"{args[0]} is not installed (requirements-dev.txt)")
    return subprocess.run(
        [str(tool), *args[1:]],
        cwd=cwd,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(cwd),
            "ANSIBLE_LOCAL_TEMP": str(cwd / "tmp"),
            "ANSIBLE_ROLES_PATH": str(ROLE.parent),
            "ANSIBLE_NOCOLOR": "1",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_role_is_valid_ansible(tmp_path):
    playbook = tmp_path / "site.yml"
    playbook.write_text("- hosts: workstations\n  become: true\n  roles:\n    - opvideo_client\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[workstations]\nop101.kursk.example.ru\nop201.orel.example.ru\n")

    result = ansible(
        "ansible-playbook", "-i", str(inventory), "--syntax-check", str(playbook), cwd=tmp_path
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_role_installs_the_units_from_the_code_and_nothing_per_site():
    tasks = (ROLE / "tasks" / "main.yml").read_text()
    assert "client_agent/deploy/opvideo.service" in tasks
    assert "client_agent/deploy/opvideo.logrotate" in tasks
    assert "/etc/systemd/system/opvideo.service" in tasks
    assert "HEAD client_agent zones storage README.md requirements-pip.txt" in tasks
    defaults = (ROLE / "defaults" / "main.yml").read_text()
    # No variable names a zone, a storage server or a directory: those come from CONFIG.
    for word in ("zone", "server", "path_src", "path_dst"):
        assert not re.search(rf"^opvideo_client_\w*{word}", defaults, re.MULTILINE | re.IGNORECASE)


def test_the_role_renders_a_db_conf_the_client_reads(tmp_path):
    extra = {
        "opvideo_client_database_url": "mysql://opvideo_client@db.example.ru:3306/opvideo",
        "opvideo_client_database_password": "s3cret-pass",
        "opvideo_client_field_encryption_keys": "k1,k2",
        "opvideo_client_settings": {"OPVIDEO_INTERVAL": 1800, "LOG_LEVEL": "WARNING"},
    }
    rendered = tmp_path / "db.conf"
    result = ansible(
        "ansible",
        "localhost",
        "-c",
        "local",
        "-m",
        "template",
        "-a",
        f"src={ROLE / 'templates' / 'db.conf.j2'} dest={rendered} mode=0600",
        "-e",
        json.dumps(extra),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    values = config_file_read(path=rendered)

    assert values == {
        "DATABASE_URL": extra["opvideo_client_database_url"],
        "DATABASE_PASSWORD": "s3cret-pass",
        "FIELD_ENCRYPTION_KEYS": "k1,k2",
        "LOG_LEVEL": "WARNING",
        "OPVIDEO_INTERVAL": "1800",
    }
    assert oct(rendered.stat().st_mode & 0o777) == "0o600"
    assert client_settings(rendered, "OPVIDEO_INTERVAL", "FIELD_ENCRYPTION_KEYS") == {
        "OPVIDEO_INTERVAL": 1800.0,
        "FIELD_ENCRYPTION_KEYS": ["k1", "k2"],
    }
