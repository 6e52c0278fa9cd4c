"""What a stored recording is, as ffprobe reads it: duration, picture size and codec.

ffprobe and ffmpeg are Debian's (package ``ffmpeg``, in the worker image). They are given
the recording as a descriptor the worker opened itself without following links
(``/dev/fd/N``, which reopens that very file), never as a path: what they read is the file
the row names inside PATH_DST, whatever is swapped in on disk meanwhile.

A recording comes from a workstation, so its content is not trusted. ffmpeg can be told by
a file to open others (a playlist or concat list disguised as a recording, which would copy
a local file into the previews anyone with a link may see): the input is read only through
the ``file`` protocol and only by the demuxers of the containers recorders write, so
playlists, concat lists and network protocols are refused.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

# The containers screen recorders write (ffmpeg's demuxer names: "mov" covers mp4, "matroska"
# webm). Never hls, concat or the image/playlist demuxers, which open further files.
INPUT_FORMATS = "mov,matroska,avi,flv,mpegts,asf"
INPUT_OPTIONS = ("-protocol_whitelist", "file", "-format_whitelist", INPUT_FORMATS)
# A whole-file probe of a sound file takes well under a second; a hung one is not waited for.
PROBE_TIMEOUT = 60
# What a reason may be: it goes to VIDEO.MEDIA_ERROR (255 characters).
REASON_LENGTH = 200
CODEC_LENGTH = 32  # VIDEO.CODEC


class MediaToolMissing(Exception):
    """ffprobe or ffmpeg is not installed here: nothing can be read (the run does not start)."""


class ProbeError(Exception):
    """The recording cannot be read as a video; the message is the short reason stored."""


@dataclass(frozen=True)
class Probe:
    duration: float  # seconds
    width: int | None
    height: int | None
    codec: str  # of the first video stream, as ffmpeg names it (h264, vp9, ...)


def media_tool(name: str) -> str:
    """The path of ``name`` (ffprobe, ffmpeg), or MediaToolMissing saying what to install."""
    found = shutil.which(name)
    if found is None:
        raise MediaToolMissing(f"{name} is not installed on this host (Debian package: ffmpeg)")
    return found


def fd_input(fd: int) -> str:
    """The input argument that gives a tool the open file ``fd`` (passed with pass_fds)."""
    return f"/dev/fd/{fd}"


def tool_run(
    command: list[str], *, fd: int, timeout: float, stdout: int = subprocess.PIPE
) -> subprocess.CompletedProcess:
    """Run a media tool on the recording ``fd``: no terminal, messages in English, the
    descriptor passed. Raises ProbeError when it runs past ``timeout`` seconds."""
    try:
        return subprocess.run(  # noqa: S603 - a fixed tool with arguments built here
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            pass_fds=(fd,),
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        name = os.path.basename(command[0])
        raise ProbeError(f"{name} took longer than {timeout:.0f} s") from None


def tool_reason(*, tool: str, stderr: bytes) -> str:
    """A short reason from a tool's error output: its last two messages, without the input's
    name (a descriptor number, which means nothing to a reader) or the component's address
    ("moov atom not found; Invalid data found when processing input")."""
    messages: list[str] = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        message = re.sub(r"^(\[[^\]]* @ 0x[0-9a-f]+\] |/dev/fd/\d+: )", "", line.strip())
        if message and message not in messages:
            messages.append(message)
    return f"{tool}: {'; '.join(messages[-2:]) or 'no output'}"[:REASON_LENGTH]


def media_probe(*, fd: int, timeout: float = PROBE_TIMEOUT) -> Probe:
    """Read the recording open on ``fd`` with ffprobe. Raises ProbeError with a short reason
    when it is not a video ffprobe can read (truncated, another kind of file, no picture)."""
    command = [
        media_tool("ffprobe"),
        "-v", "error", "-hide_banner",
        *INPUT_OPTIONS,
        "-print_format", "json",
        "-show_entries", "format=duration:stream=codec_type,codec_name,width,height,duration",
        fd_input(fd),
    ]  # fmt: skip
    result = tool_run(command, fd=fd, timeout=timeout)
    if result.returncode != 0:
        raise ProbeError(tool_reason(tool="ffprobe", stderr=result.stderr))
    try:
        found = json.loads(result.stdout or b"{}")
    except ValueError:
        raise ProbeError("ffprobe: output was not JSON") from None
    return _probe_from(found)


def _probe_from(found: dict) -> Probe:
    streams = found.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video is None:
        raise ProbeError("no video stream")
    duration = _number(found.get("format", {}).get("duration")) or _number(video.get("duration"))
    if not duration or duration <= 0:
        raise ProbeError("no duration: the recording is empty or its index is missing")
    return Probe(
        duration=duration,
        width=_size(video.get("width")),
        height=_size(video.get("height")),
        codec=str(video.get("codec_name") or "")[:CODEC_LENGTH],
    )


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number != float("inf") else None


def _size(value) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def keyframe_gap_max(*, fd: int, duration: float, timeout: float = PROBE_TIMEOUT) -> float | None:
    """The longest stretch of the first video stream without a keyframe (from its start to
    its end), read from the packets' flags without decoding anything; None when ffprobe
    cannot tell. The sprite decodes only keyframes where they are at least as dense as its
    tiles: ten to twenty times faster than decoding every frame of a long recording."""
    command = [
        media_tool("ffprobe"),
        "-v", "error", "-hide_banner",
        *INPUT_OPTIONS,
        "-select_streams", "v:0",
        "-show_entries", "packet=pts_time,flags",
        "-of", "csv=p=0",
        fd_input(fd),
    ]  # fmt: skip
    result = tool_run(command, fd=fd, timeout=timeout)
    if result.returncode != 0:
        return None
    keys = []
    for line in result.stdout.decode("ascii", "replace").splitlines():
        when, _, flags = line.partition(",")
        seconds = _number(when)
        if "K" in flags and seconds is not None:
            keys.append(seconds)
    if not keys:
        return None
    keys.sort()
    edges = [0.0, *keys, duration]
    return max(b - a for a, b in itertools.pairwise(edges))
