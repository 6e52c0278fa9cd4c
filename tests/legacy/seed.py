"""The old system's database for the adoption tests: the seed's tables with the seed README's
exact DDL, filled the way the old clients did (raw INSERTs over a plain MySQLdb connection), in
a scratch database of their own, and the real `manage.py` run against it in a subprocess.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from tests.helpers import database_url, server_connect

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"

# Verbatim from the "База данных" section of seed/OPVideo-README.ru.md.
SEED_CONFIG_DDL = """CREATE TABLE `CONFIG` (
  `id` int(10) NOT NULL AUTO_INCREMENT,
  `ZONE` varchar(20) NOT NULL,
  `SERVER` varchar(50) NOT NULL,
  `USER` varchar(10) NOT NULL,
  `RSA_KEY` text NOT NULL,
  `SPEED` varchar(5) NOT NULL,
  `PATH_SRC` varchar(50) NOT NULL,
  `PATH_DST` varchar(50) NOT NULL,
  `TYPE_VIDEOFILE` varchar(5) NOT NULL,
  `PUBLIC_ADDRESS` varchar(50) DEFAULT NULL,
  `PUBLIC_PORT` varchar(5) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=50 DEFAULT CHARSET=utf8"""

SEED_VIDEO_DDL = """CREATE TABLE `VIDEO` (
  `ZONE_ID` int(10) NOT NULL,
  `PROJECTID` varchar(40) DEFAULT NULL,
  `SESSIONID` varchar(50) NOT NULL,
  `FILE_NAME` varchar(100) NOT NULL,
  `RECORDING_DATE` date NOT NULL,
  `DELETE_DATE` date DEFAULT NULL,
  `STORAGE_DAYS` varchar(3) DEFAULT NULL,
  KEY `VIDEO_FK` (`ZONE_ID`),
  CONSTRAINT `VIDEO_FK` FOREIGN KEY (`ZONE_ID`) REFERENCES `CONFIG` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8"""

FILL_INSERT = (
    "INSERT INTO VIDEO (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE, DELETE_DATE, "
    "STORAGE_DAYS) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
SEED_COLUMNS_INSERTED = (
    "ZONE_ID", "PROJECTID", "SESSIONID", "FILE_NAME", "RECORDING_DATE", "STORAGE_DAYS"
)  # fmt: skip
OLD_INSERT = (
    "INSERT INTO VIDEO (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE, STORAGE_DAYS) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)

PEM_RSA = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAw3Jx\n-----END RSA PRIVATE KEY-----\n"
PEM_OPENSSH = (
    "\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
PUTTY_KEY = "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n"

# (id or None for AUTO_INCREMENT, ZONE, RSA_KEY, SPEED, PUBLIC_PORT)
ZONES = [
    (None, "kursk", PEM_RSA, "3000", "88"),  # id 50
    (None, "orel", PEM_OPENSSH, "abc", ""),  # id 51
    (None, "Kursk ", PUTTY_KEY, "0", "70000"),  # id 52: same name as 50, trimmed/ignoring case
    (None, "belgorod", PEM_RSA, " 500", "x8"),  # id 53
    (60, "tula", "", "99999", None),  # explicit id leaves a gap
]
ZONE_IDS = [50, 51, 52, 53, 60]
ORPHAN_ZONE = 77
CONFLICT_SESSION = "node_0_domain_0_nauss_9_1629999999_999999"
STORAGE_DAYS = ["30", "", "x", None, "7", " 14", "-5", "0", "365", "030"]


def _connect(db: str | None = None, *, charset: str = "utf8mb4", **kwargs):
    return server_connect(db, charset=charset, autocommit=True, **kwargs)


class ScratchDB:
    def __init__(self, prefix: str = "opvideo_legacy", *, options: str = ""):
        self.name = f"{prefix}_{secrets.token_hex(5)}"
        with _connect() as conn:
            conn.cursor().execute(f"CREATE DATABASE `{self.name}` {options}")
        self.url = database_url(self.name)

    def drop(self) -> None:
        with _connect() as conn:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{self.name}`")

    def connect(self, **kwargs):
        return _connect(self.name, **kwargs)

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as conn:
            cur = conn.cursor()
            cur.execute(sql, params)
            return list(cur.fetchall())

    def manage(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return manage(self.url, *args, stdin=stdin)


def manage(database_url: str, *args: str, stdin: str | None = None):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"rc={result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


# --- the old system's data ------------------------------------------------------------------


def legacy_rows() -> list[tuple]:
    """VIDEO rows in the order the old clients inserted them (dates as text)."""
    rows = []
    for i in range(60):
        zone = ZONE_IDS[i % len(ZONE_IDS)]
        session = f"node_0_domain_0_nauss_{i % 3}_{1629126106 + 37 * i}_{172352 + i}"
        project = f"corebo00000000000{i:015d}"
        name = f"Иванов_И_И_{session}.mp4" if i % 7 == 0 else f"{session}.mp4"
        day = f"2021-{8 + i // 28:02d}-{1 + i % 28:02d}"
        deleted = "2021-12-01" if i % 11 == 0 else None
        rows.append((zone, project, session, name, day, deleted, STORAGE_DAYS[i % 10]))
    # The same file registered again (a client retried): three extra rows in two groups.
    rows += [rows[3], rows[10], rows[3]]
    # Same name up to case: a different file on Linux, so both stay.
    rows.append((rows[12][0], rows[12][1], rows[12][2], rows[12][3].upper(), *rows[12][4:]))
    # The same file under another session id: moved, and reported.
    rows.append((rows[20][0], rows[20][1], CONFLICT_SESSION, rows[20][3], *rows[20][4:]))
    rows.append(
        (50, None, "node_0_domain_0_nauss_1_1629126999_1", "zero.mp4", "0000-00-00", None, "30")
    )
    rows.append((51, None, "", "no-session.mp4", "2021-08-20", None, None))
    rows.append(
        (
            53,
            "corebo00000000000ng9hgl5vhtinhmo",
            "node_0_domain_0_nauss_0_1629126106_172352x",
            "Петров.mp4",
            "2021-08-16",
            None,
            "30",
        )
    )
    return rows


def orphan_rows() -> list[tuple]:
    return [
        (ORPHAN_ZONE, None, f"node_0_domain_0_nauss_2_16291{n:05d}_1", f"orphan{n}.mp4",
         "2021-09-01", None, "30")
        for n in range(2)
    ]  # fmt: skip


def make_legacy(db: ScratchDB, *, orphans: str = "drop_fk", engine: str = "InnoDB") -> list[tuple]:
    """The seed's tables, filled the old way; returns the VIDEO rows in insertion order.

    orphans: "drop_fk" — the site dropped VIDEO_FK, then wrote videos of a zone that does not
    exist; "fk_checks_off" — VIDEO_FK is still there, but the rows got in with checks off.
    """
    with db.connect(charset="utf8") as conn:  # the old clients' connection
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = ''")  # old servers: zero dates were accepted
        for ddl in (SEED_CONFIG_DDL, SEED_VIDEO_DDL):
            cur.execute(ddl.replace("ENGINE=InnoDB", f"ENGINE={engine}"))
        for zone_id, name, key, speed, port in ZONES:
            cur.execute(
                "INSERT INTO CONFIG SET id = %s, ZONE = %s, SERVER = %s, USER = 'video', "
                "RSA_KEY = %s, SPEED = %s, PATH_SRC = '/home/oper/.videos/', "
                "PATH_DST = '/srv/video', TYPE_VIDEOFILE = 'mp4', PUBLIC_ADDRESS = %s, "
                "PUBLIC_PORT = %s",
                [zone_id, name, f"docker5.{name.strip().lower()}.example.ru", key, speed,
                 f"docker5.{name.strip().lower()}.example.ru", port],
            )  # fmt: skip
        rows = legacy_rows()
        head, tail = rows[:40], rows[40:]
        for row in head:
            cur.execute(FILL_INSERT, row)
        if orphans == "drop_fk":
            cur.execute("ALTER TABLE VIDEO DROP FOREIGN KEY VIDEO_FK")
        else:
            cur.execute("SET SESSION foreign_key_checks = 0")
        for row in orphan_rows():
            cur.execute(FILL_INSERT, row)
        cur.execute("SET SESSION foreign_key_checks = 1")
        for row in tail:
            cur.execute(FILL_INSERT, row)
    return rows[:40] + orphan_rows() + rows[40:]
