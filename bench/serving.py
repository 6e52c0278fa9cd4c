"""Serving: nginx throughput for signed links (the project's config, secure_link on) against
the same files served by the same config with the secure_link check taken out (the anchor),
measured with wrk over loopback in the same run.

Target: signed throughput >= 0.95 of the unsigned one.

    python bench/serving.py [--seconds 10] [--size-kib 256]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env, free_port, nginx_running, wrk_rps

FILE_NAME = "op101/2026-11-27_10-15-02_node_0_domain_0_nauss_0_1629126106_172352.mp4"


def without_secure_link(conf: str) -> str:
    """The same config minus the signature check: the floor the signed one is compared to."""
    conf = re.sub(r"\n\s*secure_link [^\n]*", "", conf)
    conf = re.sub(r"\n\s*secure_link_md5 [^\n]*", "", conf)
    conf = re.sub(r"\n\s*if \(\$secure_link = \"0?\"\) \{\s*return 4\d\d;\s*\}", "", conf)
    assert "secure_link" not in conf
    return conf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--size-kib", type=int, default=256, help="size of the served file")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    os.environ.update(bench_env("opvideo_bench_unused"))
    import django

    django.setup()
    from storage.links import video_link
    from storage.models import Video
    from storage.nginx import nginx_conf_render
    from zones.models import Zone

    base = Path(tempfile.mkdtemp(prefix="opvideo-bench-serving-", dir="/tmp"))
    base.chmod(0o755)
    try:
        media = base / "storage"
        target = media / FILE_NAME
        target.parent.mkdir(parents=True)
        target.write_bytes(os.urandom(args.size_kib * 1024))
        for path in (media, target.parent):
            path.chmod(0o755)
        target.chmod(0o644)

        results = {}
        for label in ("signed", "unsigned"):
            port = free_port()
            zone = Zone(
                name="bench",
                path_dst=str(media),
                public_address="127.0.0.1",
                public_port=port,
                link_secret="bench-serving-secret-0123456789",
                file_extension="mp4",
            )
            conf = nginx_conf_render(
                zone=zone,
                listen_port=port,
                access_log="/dev/null",
                error_log=str(base / f"{label}-error.log"),
                pid_file=str(base / f"{label}.pid"),
                temp_dir=str(base / label / "temp"),
                # The files are world-readable here; a host's nginx has the storage group.
                worker_user="nobody",
                worker_group="nogroup",
            )
            if label == "unsigned":
                conf = without_secure_link(conf)
            with nginx_running(conf=conf, workdir=base / label, port=port):
                url = video_link(video=Video(zone=zone, file_name=FILE_NAME))
                if label == "unsigned":
                    url = url.split("?", 1)[0]
                results[label] = wrk_rps(
                    url, connections=args.connections, seconds=args.seconds, headers={}
                )
    finally:
        shutil.rmtree(base)

    print(f"file:                {args.size_kib} KiB, {args.connections} connections, wrk")
    print(f"signed links:        {results['signed']:.0f} req/s")
    print(f"without secure_link: {results['unsigned']:.0f} req/s")
    print(f"ratio: signed/unsigned {results['signed'] / results['unsigned']:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
