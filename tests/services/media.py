"""A storage directory holding real MP4 recordings, plus the traps a video server must
refuse: a file outside it, a symlink pointing out, a hidden file, a directory, and files of
other types that a browser would run as active content."""

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

NAMES = [
    "plain.mp4",
    "звонок оператора 17.mp4",  # Cyrillic and spaces
    "a+b%c#d.mp4",  # characters with a meaning in URLs
    "sub/inner.mp4",
    "通话录音 客户.mp4",  # CJK
    "Cafe\u0301 decomposed.mp4",  # NFD: a name is its bytes, never normalised
    "Caf\u00e9 decomposed.mp4",  # the same word precomposed (NFC): another file
    "LOUD.MP4",  # the zone's type in capitals is still a recording
]

# Not recordings: served, they would run script on the video origin. Each holds ACTIVE.
NOT_VIDEO = {
    "page.html": b"<html><script>alert('ACTIVE')</script></html>",
    "sub/image.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>/*ACTIVE*/</script></svg>',
    "notes.txt": b"ACTIVE text",
    "plain.mp4.html": b"<script>ACTIVE</script>",
    "plainmp4": b"ACTIVE without a dot",
}


@dataclass
class MediaTree:
    base: Path
    path_dst: Path
    secret_file: Path

    def data(self, name: str) -> bytes:
        return (self.path_dst / name).read_bytes()


def media_tree_make(*, sample: Path) -> MediaTree:
    # nginx workers run as an unprivileged user: the tree must be world-readable, which
    # pytest's private tmp_path is not.
    base = Path(tempfile.mkdtemp(prefix="opvideo-media-", dir="/tmp"))
    os.chmod(base, 0o755)
    path_dst = base / "storage"
    for name in NAMES:
        target = path_dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, target)
        if "decomposed" in name:
            # The two spellings hold different bytes, so serving one for the other shows.
            with target.open("ab") as handle:
                handle.write(os.fsencode(name))
    secret = base / "outside" / "secret.mp4"
    secret.parent.mkdir()
    secret.write_bytes(b"SECRET-OUTSIDE-PATH-DST" * 100)
    (path_dst / "link.mp4").symlink_to(secret)
    (path_dst / ".hidden.mp4").write_bytes(b"HIDDEN" * 100)
    for name, content in NOT_VIDEO.items():
        (path_dst / name).write_bytes(content)
    for root, dirs, files in os.walk(base):
        for d in dirs:
            os.chmod(Path(root) / d, 0o755)
        for f in files:
            os.chmod(Path(root) / f, 0o644)
    return MediaTree(base=base, path_dst=path_dst, secret_file=secret)
