"""Generated sample recordings for the demo and the tests.

Real MP4 files (H.264 + AAC, moov atom first so a browser can start playing before the whole
file arrives), made by ffmpeg from its built-in test sources: no binary is kept in the repo.
"""

import shutil
import subprocess
from pathlib import Path


class SampleError(RuntimeError):
    pass


def sample_mp4_make(
    *,
    path: Path,
    seconds: int = 8,
    tone_hz: int = 440,
    cbr_kbps: int | None = None,
    rate: int = 15,
    faststart: bool = True,
) -> Path:
    """Make ``path``; ``cbr_kbps`` pads the video to a constant bit rate, for files big
    enough that a browser must fetch them in ranges. ``rate`` is frames a second (a screen
    recorder's 5 makes a long sample quickly); without ``faststart`` the index is at the
    end, as a recorder that writes as it goes leaves it."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SampleError("ffmpeg is not installed (Debian package: ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    cmd = [
        ffmpeg,
        "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=duration={seconds}:size=640x360:rate={rate}",
        "-f", "lavfi", "-i", f"sine=frequency={tone_hz}:duration={seconds}",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast",
        "-c:a", "aac", "-shortest",
    ]  # fmt: skip
    if faststart:
        cmd += ["-movflags", "+faststart"]
    if cbr_kbps:
        bits = f"{cbr_kbps}k"
        cmd += ["-b:v", bits, "-minrate", bits, "-maxrate", bits, "-bufsize", "2M"]
        cmd += ["-x264-params", "nal-hrd=cbr:force-cfr=1"]
    cmd += ["-f", "mp4", str(tmp)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise SampleError(f"ffmpeg failed: {result.stderr.strip()[:500]}")
    tmp.replace(path)  # a half-written sample never takes the real name
    return path
