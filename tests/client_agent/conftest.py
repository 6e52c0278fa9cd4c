"""The workstation client against the real things: a storage server (sshd with the zone's key
confined to the upload module), rsync, and MariaDB reached as the least-privilege user the
README describes. The client runs as a subprocess (``python -m client_agent …``), as systemd
runs it, configured by nothing but its own db.conf."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils import timezone

from client_agent.grants import client_grants
from tests.factories import make_zone, session_id
from tests.helpers import PYTHON, REPO
from tests.services.sshd import ConfinedSshd, confined_sshd
from zones.models import Zone

PROJECT_ID = "corebo00000000000ng9hgl5vhtinhmo"
HOUR = 3600
CALL_SECONDS = 300


@dataclass(frozen=True)
class DbAccount:
    user: str
    password: str
    host: str
    port: int
    name: str

    def url(self, *, port: int | None = None) -> str:
        return f"mysql://{self.user}:{self.password}@{self.host}:{port or self.port}/{self.name}"


def db_account_create(*, suffix: str = "") -> DbAccount:
    """A MariaDB user with exactly a zone client's GRANTs on the test database (the same for
    every zone: which zone it serves is its CLIENT_LOGIN row, see client_login_register)."""
    from django.db import connection

    db = connection.settings_dict
    account = DbAccount(
        user=f"opvc{suffix}_{db['NAME']}"[:80],
        password=secrets.token_urlsafe(16),  # [A-Za-z0-9_-]: safe inside quotes
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 3306),
        name=db["NAME"],
    )
    spec = f"'{account.user}'@'%'"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS {spec}")
        cursor.execute(f"CREATE USER {spec} IDENTIFIED BY '{account.password}'")
        for statement in client_grants(zone="kursk", database=account.name, account=spec):
            if statement.startswith("GRANT"):
                cursor.execute(statement)
    return account


def db_account_drop(account: DbAccount) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS '{account.user}'@'%'")


@pytest.fixture(scope="session")
def client_account(django_db_setup, django_db_blocker) -> DbAccount:
    """A MariaDB user with exactly the client's GRANTs on the test database."""
    with django_db_blocker.unblock():
        account = db_account_create()
    yield account
    with django_db_blocker.unblock():
        db_account_drop(account)


@pytest.fixture(scope="session")
def other_client_account(django_db_setup, django_db_blocker) -> DbAccount:
    """A second client user with the same GRANTs: another zone's workstations."""
    with django_db_blocker.unblock():
        account = db_account_create(suffix="b")
    yield account
    with django_db_blocker.unblock():
        db_account_drop(account)


def client_login_register(account: DbAccount, *, zone: str = "kursk") -> None:
    """List ``account``'s user in CLIENT_LOGIN for ``zone`` (which must exist), as
    ``client_grants --zone`` does, so that it reads that zone's sealed key and the triggers
    check its rows: the table is emptied after every transactional test, the GRANTs
    (server-wide) are not."""
    from django.db import connection

    (statement,) = [
        s for s in client_grants(zone=zone, database=account.name, account=f"'{account.user}'@'%'")
        if not s.startswith("GRANT")
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(statement)
        assert cursor.rowcount >= 1, f"no zone {zone} to list {account.user} for"


def this_login_serves(zone: Zone, settings) -> None:
    """Make this test process a client of ``zone``, for a cycle run in-process: its own
    database login (the test database's owner) listed for the zone, and the zone's key as
    OPVIDEO_ZONE_KEY (``settings``: pytest-django's fixture)."""
    from django.db import connection

    from client_agent.models import ClientDatabaseLogin

    ClientDatabaseLogin.objects.update_or_create(
        user=connection.settings_dict["USER"], defaults={"zone": zone}
    )
    settings.OPVIDEO_ZONE_KEY = Zone.objects.get(pk=zone.pk).client_key


@dataclass
class Storage:
    server: ConfinedSshd
    zone: Zone
    path_src: Path

    @property
    def dst(self) -> Path:
        return self.server.dst

    def stored(self) -> dict[str, bytes]:
        """Every complete file on storage (hidden temporary files excluded), by FILE_NAME."""
        return {
            str(path.relative_to(self.dst)): path.read_bytes()
            for path in sorted(self.dst.rglob("*"))
            if path.is_file()
            and not any(p.startswith(".") for p in path.relative_to(self.dst).parts)
        }

    def temporary_files(self) -> list[Path]:
        return [p for p in self.dst.rglob(".*") if p.is_file()]


@pytest.fixture
def storage(tmp_path, transactional_db) -> Storage:
    """Zone ``kursk`` in CONFIG whose storage server is a real sshd on a loopback port."""
    with confined_sshd(workdir=tmp_path / "storage") as server:
        path_src = tmp_path / "home" / "oper" / ".videos"
        path_src.mkdir(parents=True)
        zone = make_zone(
            name="kursk",
            server="127.0.0.1",
            ssh_port=server.port,
            ssh_user=server.user,
            path_src=str(path_src),
            path_dst=str(server.dst),
            speed_kbps=99_999,
            retention_days=30,
            # Workstations talk only to the server showing this key.
            host_keys=server.host_key,
        )
        server.install(zone=zone)
        yield Storage(server=server, zone=zone, path_src=path_src)


@dataclass
class ClientHost:
    """One workstation: its db.conf, state, logs and recordings directory."""

    name: str
    root: Path
    account: DbAccount
    storage: Storage
    src: Path  # where this workstation's recorder writes (PATH_SRC as it sees it)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return self.root / "db.conf"

    @property
    def rsync_log(self) -> Path:
        return self.root / "log" / "op_rsync.log"

    @property
    def error_log(self) -> Path:
        return self.root / "log" / "videos_error.log"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def key_dir(self) -> Path:
        return self.root / "run"

    def configure(self, **overrides: str) -> None:
        from django.conf import settings

        values = {
            "DATABASE_URL": self.account.url(),
            # The zone's own key, never the web's FIELD_ENCRYPTION_KEYS.
            "OPVIDEO_ZONE_KEY": Zone.objects.get(pk=self.storage.zone.pk).client_key,
            "TIME_ZONE": settings.TIME_ZONE,
            # No site DNS here: the resolver path has its own tests.
            "OPVIDEO_ZONE": self.storage.zone.name,
            "OPVIDEO_WORKSTATION": self.name,
            "OPVIDEO_SETTLE_SECONDS": "60",
            "OPVIDEO_RECHECK_SECONDS": "0",
            "OPVIDEO_RETRY_ATTEMPTS": "2",
            "OPVIDEO_RETRY_DELAY": "0",
            "OPVIDEO_FAILURE_RETRY": "0.2",
            "OPVIDEO_SSH_CONNECT_TIMEOUT": "5",
            "OPVIDEO_RSYNC_TIMEOUT": "60",
            "OPVIDEO_STATE_DIR": str(self.state_dir),
            "OPVIDEO_KEY_DIR": str(self.key_dir),
            "OPVIDEO_RSYNC_LOG": str(self.rsync_log),
            "OPVIDEO_ERROR_LOG": str(self.error_log),
        }
        self.settings.update(values | self.settings | overrides)
        lines = ["# written by the tests"] + [f"{k}={v}" for k, v in self.settings.items()]
        self.config_file.write_text("\n".join(lines) + "\n")
        self.config_file.chmod(0o600)

    def command(self, *args: str) -> list[str]:
        command = [PYTHON, "-m", "client_agent", *args]
        if self.src == self.storage.path_src:
            return command
        # Another workstation: its own disk, seen at the zone's PATH_SRC, as on a real one.
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$1" "$2" && shift 2 && exec "$@"',
            "sh",
            str(self.src),
            str(self.storage.path_src),
            *command,
        ]

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "OPVIDEO_CLIENT_CONFIG": str(self.config_file),
            # What a confused shell might have exported: the client must ignore it.
            "DJANGO_SETTINGS_MODULE": "opvideo.settings",
            "DATABASE_URL": "mysql://nobody@127.0.0.1:1/nothing",
        }

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args),
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen:
        """Start the client in a session of its own, so it can be killed with its children
        as systemd kills a service (the whole control group)."""
        return subprocess.Popen(
            self.command(*args),
            cwd=REPO,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def record(self, n: int, *, size: int = 10_000, age: float = HOUR, name: str = "") -> Path:
        """A finished recording, written ``age`` seconds ago, named the way recorders do:
        stamped with when its call began (five minutes before, on the call centre's clock)."""
        stamp = time.time() - age
        began = timezone.localtime(datetime.fromtimestamp(stamp - CALL_SECONDS, tz=UTC))
        name = name or f"{began:%Y-%m-%d_%H-%M-%S}_{session_id(n)}_{PROJECT_ID}.mp4"
        path = self.src / name
        path.write_bytes(os.urandom(size))
        os.utime(path, (stamp, stamp))
        return path

    def log(self) -> str:
        return self.error_log.read_text() if self.error_log.exists() else ""

    def transfer_log(self) -> str:
        return self.rsync_log.read_text() if self.rsync_log.exists() else ""


@pytest.fixture
def make_host(tmp_path, storage, client_account):
    def make(
        name: str = "op101", *, own_disk: bool = False, machine: str = "", **settings: str
    ) -> ClientHost:
        # ``machine``: another computer under the same host name (a cloned image).
        root = tmp_path / "workstations" / (machine or name)
        root.mkdir(parents=True)
        src = storage.path_src
        if own_disk:
            if shutil.which("unshare") is None:
                pytest.skip("needs unshare(1) to give each workstation its own PATH_SRC")
            src = root / "videos"
            src.mkdir()
        client_login_register(client_account, zone=storage.zone.name)
        host = ClientHost(name=name, root=root, account=client_account, storage=storage, src=src)
        host.configure(**settings)
        return host

    return make


@pytest.fixture
def host(make_host) -> ClientHost:
    return make_host()


def wait_for(predicate, *, what: str, timeout: float = 60, proc: subprocess.Popen | None = None):
    """Poll until ``predicate()`` is true (an ordering point, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(
                f"the client exited ({proc.returncode}) before {what}:\n{out}\n{err}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def db_connections_of(user: str) -> int:
    """Connections MariaDB has open for ``user`` right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s", [user]
        )
        return cursor.fetchone()[0]


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    os.killpg(proc.pid, sig)
    proc.wait(timeout=30)
