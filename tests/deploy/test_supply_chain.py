"""The Python packages come only from hashed lock files: every requirements file that an
install reads pins every package, dependencies included, to a version and the hashes of its
files (`make lock`, pip-compile --generate-hashes); every install (the image, make run/test/
bench, CI's lint job, the workstation role, the README's commands) runs pip with
--require-hashes. And the role's install step, run for real with ansible, builds the
client's virtualenv from the locks and refuses a file whose hash is not in them."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.helpers import REPO

LOCKS = {
    REPO / "requirements-pip.txt": REPO / "requirements-pip.in",
    REPO / "requirements.txt": REPO / "requirements.in",
    REPO / "requirements-dev.txt": REPO / "requirements-dev.in",
    REPO / "requirements-lint.txt": REPO / "requirements-lint.in",
    REPO / "client_agent" / "requirements.txt": REPO / "client_agent" / "requirements.in",
}
ROLE_TASKS = REPO / "client_agent" / "ansible" / "roles" / "opvideo_client" / "tasks" / "main.yml"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def entries(path: Path) -> list[list[str]]:
    """The requirement entries of a requirements file: continuation lines joined, comments
    dropped, each entry split into words."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            found.append(line.split())
    return found


def lock(path: Path) -> dict[str, str]:
    """{name: version} of a lock file, asserting every entry is a pin with its hashes."""
    pins = {}
    for words in entries(path):
        match = PIN.match(words[0])
        assert match, f"{path.name}: {' '.join(words)!r} is not a pinned requirement"
        hashes = words[1:]
        assert hashes, f"{path.name}: {words[0]} has no --hash"
        assert all(HASH.match(h) for h in hashes), f"{path.name}: {words[0]}: {hashes}"
        pins[normalise(match.group(1))] = match.group(2)
    return pins


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_lock_pins_every_package_with_its_hashes(path):
    pins = lock(path)
    assert pins
    # Written by `make lock`, not by hand.
    assert "#    make lock\n" in path.read_text()


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_lock_holds_what_its_source_asks_for(path):
    pins = lock(path)
    source = LOCKS[path]
    asked = {}
    for words in entries(source):
        if words[0] == "-r":
            for included in entries(source.parent / words[1]):
                asked[normalise(included[0].split("==")[0])] = included[0].split("==")[1]
            continue
        name, _, version = words[0].partition("==")
        asked[normalise(name)] = version
    assert {name: pins.get(name) for name in asked} == asked


def test_one_version_of_each_package_everywhere():
    dev = lock(REPO / "requirements-dev.txt")
    for path in LOCKS:
        pins = lock(path)
        assert {name: dev.get(name) for name in pins} == pins, path
    # Current pip and setuptools, first in every install.
    assert set(lock(REPO / "requirements-pip.txt")) == {"pip", "setuptools"}


def statements(text: str) -> list[str]:
    """Shell-like statements: continuation lines (a trailing backslash) joined."""
    return re.sub(r"\\\n", " ", text).splitlines()


PIP_INSTALL = re.compile(r"""\bpip3?["']?\s+install\b""")
LOCK_FILE = re.compile(r"-r\s+(\S*requirements[\w.-]*\.txt|\"\$req\")")


def yaml_strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        return [s for item in node for s in yaml_strings(item)]
    return []


def installs() -> list[tuple[str, str]]:
    """Every pip install command in the repository's scripts, images, CI and docs."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    kinds = re.compile(r"(Dockerfile|Makefile|\.sh|\.ya?ml|\.md)$")
    found = []
    for name in files:
        path = REPO / name
        if not kinds.search(name) or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if name.endswith((".yml", ".yaml")):
            # A command folded over lines in YAML is one string once loaded.
            loaded = YAML(typ="safe").load(text)
            text = "\n".join(s.replace("\n", " ") for s in yaml_strings(loaded))
        elif name.endswith(".md"):
            # A command broken over lines in a paragraph is still one command.
            text = text.replace("\n", " ")
        found += [(name, s) for s in statements(text) if PIP_INSTALL.search(s)]
    return found


def test_every_pip_install_requires_hashes():
    found = installs()
    names = {name for name, _ in found}
    assert {"docker/app/Dockerfile", "scripts/install-deps.sh", ".gitlab-ci.yml"} <= names
    assert "README.md" in names
    for name, statement in found:
        for command in PIP_INSTALL.split(statement)[1:]:
            command = command.split("&&")[0].split("`")[0]
            assert "--require-hashes" in command, f"{name}: pip install{command}"
            assert LOCK_FILE.search(command), (
                f"{name}: pip install{command} does not install from a lock file"
            )
    # What scripts/install-deps.sh installs as "$req": a lock file.
    script = (REPO / "scripts" / "install-deps.sh").read_text()
    assert {REPO / r for r in re.findall(r"^\s*req=(\S+)$", script, re.M)} <= set(LOCKS)


def test_sdists_are_built_by_the_checked_setuptools_or_not_at_all():
    # Build isolation would fetch a builder for each source package without checking it.
    for name, statement in installs():
        for command in PIP_INSTALL.split(statement)[1:]:
            if "requirements-pip.txt" not in command:
                assert "--no-build-isolation" in command or "--only-binary :all:" in command, (
                    f"{name}: pip install{command}"
                )


def role_pip_tasks() -> list[dict]:
    tasks = YAML(typ="safe", pure=True).load(ROLE_TASKS.read_text())
    return [t for t in tasks if "ansible.builtin.pip" in t]


def test_the_role_installs_pip_first_then_the_client_both_with_hashes():
    first, second = role_pip_tasks()
    assert first["ansible.builtin.pip"]["requirements"].endswith("/requirements-pip.txt")
    assert second["ansible.builtin.pip"]["requirements"].endswith("/client_agent/requirements.txt")
    for task in (first, second):
        args = task["ansible.builtin.pip"]
        assert "name" not in args  # nothing by name: only from the locks
        assert args["extra_args"].startswith("--require-hashes")
    assert "--no-build-isolation" in second["ansible.builtin.pip"]["extra_args"]


# --- the role's install step, for real ----------------------------------------------------------

ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def run_role_install(tmp_path: Path, pip_lock: Path) -> subprocess.CompletedProcess:
    """The role's two pip tasks, as they are in the role, against a release laid out as the
    role unpacks it (its archive holds requirements-pip.txt and client_agent/)."""
    if not ANSIBLE_PLAYBOOK.exists():
        pytest.skip("ansible-playbook is not installed (requirements-dev.txt)")
    prefix = tmp_path / "opt"
    release = prefix / "releases" / "test"
    (release / "client_agent").mkdir(parents=True)
    shutil.copy(pip_lock, release / "requirements-pip.txt")
    shutil.copy(REPO / "client_agent" / "requirements.txt", release / "client_agent")
    tasks = role_pip_tasks()
    for task in tasks:
        task.pop("notify", None)  # the handler restarts the service, not here
    play = [
        {
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {
                "ansible_python_interpreter": sys.executable,
                "opvideo_client_prefix": str(prefix),
                "opvideo_client_commit": {"stdout": "test"},
                "opvideo_client_pip_index_url": "",
            },
            "tasks": tasks,
        }
    ]
    playbook = tmp_path / "install.yml"
    with playbook.open("w") as out:
        YAML().dump(play, out)
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(playbook)],
        cwd=tmp_path,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_the_roles_install_step_builds_the_client_from_the_locks(tmp_path):
    result = run_role_install(tmp_path, REPO / "requirements-pip.txt")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

    venv = tmp_path / "opt" / "venv" / "bin" / "python"
    code = (
        "import importlib.metadata as m, MySQLdb, django, cryptography, environ, dns\n"
        "for d in m.distributions(): print(d.metadata['Name'], d.version)\n"
    )
    listed = subprocess.run([str(venv), "-c", code], capture_output=True, text=True, check=True)
    installed = {
        normalise(name): version for name, version in map(str.split, listed.stdout.splitlines())
    }
    expected = lock(REPO / "client_agent" / "requirements.txt")
    expected |= lock(REPO / "requirements-pip.txt")
    assert {name: installed.get(name) for name in expected} == expected


@pytest.mark.slow
def test_the_roles_install_step_refuses_a_file_whose_hash_is_not_in_the_lock(tmp_path):
    tampered = tmp_path / "requirements-pip.txt"
    text = (REPO / "requirements-pip.txt").read_text()
    tampered.write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text))

    result = run_role_install(tmp_path, tampered)

    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stdout + result.stderr
    # Stopped at the first task: nothing of the client was installed.
    venv = tmp_path / "opt" / "venv"
    assert not list(venv.glob("lib/python*/site-packages/django"))
