"""Transfer: one workstation-client cycle sending 1,000 MiB in 200 recordings to a storage
server through the real confined sshd (the zone's key behind the upload-module line the
admin page shows), against plain ``rsync -a`` of the same files over the same ssh (same sshd,
port, user and ssh options; another key, not confined) into an ordinary directory, measured
in the same run. And ``--bwlimit`` accuracy: the client's send at SPEED=2000 KB/s.

What is timed:

- the cycle: ``services.cycle_run`` in-process, as ``python -m client_agent run`` runs each
  cycle (zone row, scan, ``StorageLink`` send + verify dry run, register, clean-up,
  heartbeat); the recheck pause is 0, the files are an hour old (settled). The zone's SPEED
  is the highest the model allows (99,999 KB/s): the client always passes ``--bwlimit``.
- the anchor: ``rsync -a src/ root@127.0.0.1:plain/``; and, to separate the client's own
  overhead from that cap, the same with ``--bwlimit=99999``.
- bwlimit: ``StorageLink.send`` alone (the client's real rsync command, ssh connection
  included) of 16 MiB at SPEED=2000; rate in rsync's unit, KiB/s (1 KB = 1024 bytes).

- hashing: the same cycle twice on fresh files, once as the client runs it (each file's
  SHA-256 read while rsync sends the batch, ``client_agent.stages.batch_send``) and once
  with the hash made from the name instead, without reading the file: the cost of custody.

Targets: the bwlimit rate within 10% of SPEED; the cycle with hashing at most 1.10 times
the cycle without (issue 12). Issue 8 sets no number for cycle/rsync; the ratio is printed.

Needs root (sshd). Everything is under one /tmp directory, removed at the end; sshd stops.

    python bench/transfer.py [--total-mb 1000] [--files 200] [--bwlimit-mb 16] [--speed 2000]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    bench_env,
    bench_prepare,
    database_create,
    named_hashes,
    recording_name,
    scratch_dir,
    zone_fresh,
)

DATABASE = "opvideo_bench_transfer"
ZONE = "bench-transfer"
WORKSTATION = "op101"
MiB = 2**20


def files_make(directory: Path, *, count: int, size: int, first: int = 0) -> list[Path]:
    """``count`` recordings of random bytes (nothing for ssh's compression, were it on),
    finished an hour ago."""
    directory.mkdir(exist_ok=True)
    stamp = time.time() - 3600
    paths = []
    for n in range(first, first + count):
        path = directory / recording_name(n)
        with path.open("wb") as handle:
            for _ in range(size // MiB):
                handle.write(os.urandom(MiB))
            handle.write(os.urandom(size % MiB))
        os.utime(path, (stamp, stamp))
        paths.append(path)
    return paths


def tree_bytes(directory: Path) -> tuple[int, int]:
    """(files, bytes) of the complete files under ``directory`` (rsync's hidden temporary
    files excluded)."""
    files = [
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    return len(files), sum(p.stat().st_size for p in files)


def anchor_key(work: Path, authorized_keys: Path) -> Path:
    """A key the sshd lets do anything (no forced command): plain rsync's way in."""
    key = work / "anchor_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    with authorized_keys.open("a") as handle:
        handle.write(key.with_suffix(".pub").read_text())
    return key


def plain_rsync(*, src: Path, dst: Path, key: Path, port: int, user: str, bwlimit: int) -> float:
    """Seconds for ``rsync -a`` of ``src`` into ``dst`` over ssh, with the ssh options the
    client uses that matter for speed (``-F none``: the same cipher negotiation)."""
    ssh = [
        "ssh",
        "-F",
        "none",
        "-i",
        str(key),
        "-p",
        str(port),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
    ]
    command = ["rsync", "-a", "-e", shlex.join(ssh)]
    if bwlimit:
        command.append(f"--bwlimit={bwlimit}")
    dst.mkdir()
    os.sync()  # the previous run's dirty pages must not be written back during this one
    started = time.perf_counter()
    subprocess.run([*command, f"{src}/", f"{user}@127.0.0.1:{dst}/"], check=True)
    return time.perf_counter() - started


def timed_cycle(*, config, hashing: bool):
    """(seconds, report) of one ``cycle_run``; ``hashing=False`` gives each file a hash made
    from its name instead of reading it: the cycle as it was before the client hashed."""
    from client_agent import services, stages

    real = stages.recordings_hash

    def named(*, directory, recordings):
        return stages.Hashed(ready=named_hashes(recordings), changed=[])

    stages.recordings_hash = real if hashing else named
    try:
        os.sync()
        started = time.perf_counter()
        report = services.cycle_run(config=config)
        return time.perf_counter() - started, report
    finally:
        stages.recordings_hash = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-mb", type=int, default=1000, help="MiB sent by the cycle")
    parser.add_argument("--files", type=int, default=200, help="files they are split into")
    parser.add_argument("--bwlimit-mb", type=int, default=16, help="MiB sent at --speed")
    parser.add_argument("--speed", type=int, default=2000, help="SPEED (KB/s) for bwlimit")
    parser.add_argument("--refill", action="store_true", help="drop and recreate the database")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench/transfer.py needs root: it runs sshd (as the tests do)")

    env = bench_env(DATABASE)
    database_create(DATABASE, fresh=args.refill)
    bench_prepare(env)
    os.environ.update(env)
    import django

    django.setup()
    from tests.services.sshd import confined_sshd

    with (
        scratch_dir("opvideo-bench-transfer-") as work,
        confined_sshd(workdir=work / "storage") as server,
    ):
        run(args, work=work, server=server, env=env)


def run(args: argparse.Namespace, *, work: Path, server, env: dict[str, str]) -> None:
    from client_agent.conf import AgentConfig
    from client_agent.logs import logs_configure
    from client_agent.transfer import StorageLink
    from zones.models import MAX_SPEED_KBPS, Zone

    src = work / "videos"
    zone_fresh(
        env,
        name=ZONE,
        server="127.0.0.1",
        ssh_port=server.port,
        ssh_user=server.user,
        speed_kbps=MAX_SPEED_KBPS,
        path_src=str(src),
        path_dst=str(server.dst),
        file_extension="mp4",
        public_address="video.example.ru",
        public_port=88,
    )
    zone = Zone.objects.get(name=ZONE)
    server.install(zone=zone)
    # The cycle runs in-process as this database login: list it as the zone's client login
    # and give it the zone's key, as a workstation's login and db.conf are.
    from django.conf import settings
    from django.db import connection

    from client_agent.models import ClientDatabaseLogin
    from client_agent.selectors import zone_ssh_key

    ClientDatabaseLogin.objects.update_or_create(
        user=connection.settings_dict["USER"], defaults={"zone": zone}
    )
    settings.OPVIDEO_ZONE_KEY = zone.client_key
    key = anchor_key(work, server.authorized_keys)
    config = AgentConfig(
        workstation=WORKSTATION,
        zone_override=ZONE,
        recheck_seconds=0,
        retry_attempts=1,
        state_dir=work / "state",
        key_dir=work / "run",
        rsync_log=work / "op_rsync.log",
        error_log=work / "videos_error.log",
    )
    # The client's own loggers and files, as the service configures them.
    logs_configure(rsync_log=config.rsync_log, error_log=config.error_log, level="INFO")

    size = args.total_mb * MiB // args.files
    files_make(src, count=args.files, size=size)
    total = size * args.files
    from storage.models import Video

    anchors = {}
    for label, bwlimit in (("plain", 0), ("plain-bwlimit", MAX_SPEED_KBPS)):
        dst = work / label
        anchors[label] = plain_rsync(
            src=src, dst=dst, key=key, port=server.port, user=server.user, bwlimit=bwlimit
        )
        assert tree_bytes(dst) == (args.files, total), tree_bytes(dst)
        subprocess.run(["rm", "-rf", str(dst)], check=True)

    # The same cycle without reading the files a second time for their hash, then with it
    # (the client's own way: hashing while rsync sends), on fresh copies of the same files.
    cycles = {}
    for hashing in (False, True):
        files_make(src, count=args.files, size=size)  # fresh bytes, as a new day's recordings
        cycles[hashing], report = timed_cycle(config=config, hashing=hashing)
        if not report.ok or len(report.delivered) != args.files:
            raise SystemExit(
                f"the cycle failed: {report.summary()} {report.errors}\n"
                f"{config.rsync_log.read_text()[-3000:]}"
            )
        assert tree_bytes(server.dst / WORKSTATION) == (args.files, total)
        assert list(src.iterdir()) == []
        subprocess.run(["rm", "-rf", str(server.dst / WORKSTATION)], check=True)
        Video.objects.filter(zone=zone).delete()
    cycle = cycles[True]

    # --bwlimit: the zone's SPEED as the client reads it, the client's own send.
    Zone.objects.filter(pk=zone.pk).update(speed_kbps=args.speed)
    zone = Zone.objects.get(pk=zone.pk)
    chunk = 4 * MiB
    paths = files_make(
        src, count=max(1, args.bwlimit_mb * MiB // chunk), size=chunk, first=args.files
    )
    sent = sum(p.stat().st_size for p in paths)
    os.sync()
    with StorageLink(zone=zone, private_key=zone_ssh_key(zone=zone), config=config) as link:
        started = time.perf_counter()
        sent_result = link.send(names=[p.name for p in paths])
        send_seconds = time.perf_counter() - started
        # A dry run of the same names: the ssh connection and file list, no data.
        started = time.perf_counter()
        verification = link.verify(names=[p.name for p in paths])
        overhead = time.perf_counter() - started
    assert sent_result.failure is None, sent_result
    assert len(verification.delivered) == len(paths), verification
    rate = sent / 1024 / send_seconds
    rate_net = sent / 1024 / (send_seconds - overhead)

    mib = total / MiB
    print(f"data:                         {mib:,.0f} MiB in {args.files} files of {size:,} bytes")
    plain, capped = anchors["plain"], anchors["plain-bwlimit"]
    print(f"plain rsync -a:               {plain:.2f} s, {mib / plain:.0f} MiB/s")
    print(f"plain rsync -a --bwlimit={MAX_SPEED_KBPS}: {capped:.2f} s, {mib / capped:.0f} MiB/s")
    print(
        f"client cycle (module):        {cycle:.2f} s, {mib / cycle:.0f} MiB/s "
        f"(SPEED={MAX_SPEED_KBPS}, {report.summary()})"
    )
    print(
        f"bwlimit, SPEED={args.speed}:       {sent / MiB:.0f} MiB in {send_seconds:.2f} s = "
        f"{rate:,.0f} KiB/s ({rate_net:,.0f} KiB/s less a dry run's {overhead:.2f} s of "
        "connection and file list)"
    )
    print(
        f"client cycle without hashing: {cycles[False]:.2f} s, {mib / cycles[False]:.0f} MiB/s "
        "(the same cycle, the files not read for their SHA-256)"
    )
    print(
        f"ratio: cycle with/without hashing time {cycle / cycles[False]:.2f} (target <= 1.10); "
        f"cycle/plain-rsync time {cycle / plain:.2f} (no target in issue 8); "
        f"cycle/rsync-same-bwlimit time {cycle / capped:.2f}; "
        f"bwlimit rate/SPEED {rate / args.speed:.3f} (target 0.90-1.10)"
    )


if __name__ == "__main__":
    main()
