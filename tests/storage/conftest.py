"""Recordings with real files in a real storage directory, for the retention tests."""

import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from storage.models import Video
from tests.factories import make_video, make_zone
from zones.models import Zone


@dataclass
class Store:
    """A zone's PATH_DST, with a place outside it that nothing may ever touch."""

    root: Path
    outside: Path
    zone: Zone

    def recording(
        self, name: str, *, recorded: date, size: int = 1000, file: bool = True, **fields
    ) -> Video:
        """A VIDEO row and, unless ``file`` is False, its file of ``size`` bytes."""
        if file:
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"v" * size)
        return make_video(
            zone=self.zone, file_name=name, recording_date=recorded, size=size, **fields
        )

    def files(self) -> set[str]:
        """Every entry under root (files, links, directories), relative names."""
        found = set()
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                found.add(os.path.relpath(os.path.join(dirpath, name), self.root))
        return found


def store_make(base: Path, **zone_fields) -> Store:
    root = base / "store"
    outside = base / "outside"
    root.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"SECRET" * 10)
    (outside / "dir").mkdir()
    (outside / "dir" / "inner.mp4").write_bytes(b"INNER" * 10)
    zone = make_zone(
        name=zone_fields.pop("name", f"r{uuid.uuid4().hex[:10]}"),
        path_dst=str(root),
        retention_days=zone_fields.pop("retention_days", 30),
        **zone_fields,
    )
    return Store(root=root, outside=outside, zone=zone)


@pytest.fixture
def store(tmp_path) -> Store:
    return store_make(tmp_path)


@pytest.fixture
def immutable():
    """chattr +i: a file even root cannot delete (EPERM from the kernel itself). Undone
    afterwards so pytest can clean up."""
    marked: list[Path] = []

    def mark(path: Path) -> None:
        if os.geteuid() != 0:
            pytest.skip("chattr +i needs root (CAP_LINUX_IMMUTABLE)")
        result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if result.returncode != 0:
            pytest.skip(f"this file system has no immutable flag: {result.stderr!r}")
        marked.append(path)

    yield mark
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.fixture
def broker():
    from tests.services.celery import Broker

    broker = Broker()
    yield broker
    broker.close()
