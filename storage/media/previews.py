"""A recording's previews, made by ffmpeg: a poster frame and a thumbnail sprite with its
WebVTT index, as NVR and video-review tools make them.

- ``poster.jpg``: the frame about a second in (the very first one of a shorter recording,
  whose first second may still be black), at most 1280 px wide: what the player shows
  before it plays.
- ``sprite.jpg``: one frame every N seconds, each scaled to a 160 px wide tile, laid out
  as one JPEG grid of ``columns`` tiles a row; N grows with the duration so that a call of
  any length has at most about 150 tiles (a 30-minute call: one every 12 s).
- ``thumbs.vtt``: a WebVTT cue per tile, ``sprite.jpg#xywh=x,y,w,h`` for its moment, the
  index scrubbing tools read.

The geometry goes on the row (``Video.preview``), so a page places the tiles without
fetching the index: tile ``i`` covers ``[i*interval, (i+1)*interval)`` seconds and sits at
``x = (i % columns) * tile_width``, ``y = (i // columns) * tile_height``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from .probe import (
    INPUT_OPTIONS,
    Probe,
    ProbeError,
    fd_input,
    keyframe_gap_max,
    media_tool,
    tool_reason,
    tool_run,
)
from .tree import POSTER, SPRITE, THUMBS, preview_file_put

TILE_WIDTH = 160
SPRITE_COLUMNS = 10
# At most about this many tiles, and never more than one every MIN_INTERVAL seconds.
TILES_WANTED = 150
MIN_INTERVAL = 2
POSTER_AT = 1.0
POSTER_MAX_WIDTH = 1280
# ffmpeg decodes the whole recording for the sprite: allow it the recording's length again
# on top of a fixed margin, so a slow disk is not a failure but a hung decoder is.
SPRITE_TIMEOUT_MARGIN = 120
POSTER_TIMEOUT = 60
_SHOWINFO_FRAME = re.compile(rb"\bn:\s*\d+\s+pts:")


class PreviewError(Exception):
    """The previews could not be made; the message is the short reason stored."""


@dataclass(frozen=True)
class SpritePlan:
    interval: int  # seconds between tiles
    tile_width: int
    tile_height: int
    columns: int
    rows: int
    count: int  # tiles planned; the sprite may hold fewer (a damaged end)

    def geometry(self, *, count: int) -> dict:
        """What ``Video.preview`` holds for a sprite of ``count`` tiles."""
        return {
            "interval": self.interval,
            "tile_width": self.tile_width,
            "tile_height": self.tile_height,
            "columns": self.columns,
            "count": count,
        }


def sprite_plan(*, duration: float, width: int, height: int) -> SpritePlan:
    """The sprite for a recording of ``duration`` seconds and ``width`` x ``height``."""
    interval = max(MIN_INTERVAL, math.ceil(duration / TILES_WANTED))
    count = max(1, math.ceil(duration / interval))
    columns = min(SPRITE_COLUMNS, count)
    # Even, as the JPEG's chroma is subsampled; the picture's own proportions.
    tile_height = max(2, round(TILE_WIDTH * height / width / 2) * 2)
    return SpritePlan(
        interval=interval,
        tile_width=TILE_WIDTH,
        tile_height=tile_height,
        columns=columns,
        rows=math.ceil(count / columns),
        count=count,
    )


def thumbs_vtt(*, geometry: dict, duration: float, sprite: str = SPRITE) -> str:
    """The WebVTT index of a sprite with ``geometry`` (``SpritePlan.geometry``)."""
    interval, columns = geometry["interval"], geometry["columns"]
    width, height = geometry["tile_width"], geometry["tile_height"]
    cues = ["WEBVTT", ""]
    for i in range(geometry["count"]):
        start = i * interval
        if start >= duration and i:
            break
        end = min((i + 1) * interval, max(duration, start + 0.001))
        x, y = (i % columns) * width, (i // columns) * height
        cues += [
            f"{_vtt_time(start)} --> {_vtt_time(end)}",
            f"{sprite}#xywh={x},{y},{width},{height}",
            "",
        ]
    return "\n".join(cues)


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def previews_make(*, fd: int, probe: Probe, dir_fd: int) -> dict:
    """Make the poster, the sprite and its index of the recording open on ``fd`` in the
    preview directory ``dir_fd``; the sprite's geometry. Raises PreviewError (a file made
    before the failure stays, to be replaced by the next attempt or deleted with the
    recording)."""
    if not probe.width or not probe.height:
        raise PreviewError("no picture size: no previews")
    ffmpeg = media_tool("ffmpeg")
    poster_at = POSTER_AT if probe.duration >= 2 * POSTER_AT else 0.0
    poster = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", *INPUT_OPTIONS,
        "-ss", f"{poster_at:g}", "-i", fd_input(fd), "-map", "0:v:0", "-frames:v", "1",
        "-vf", f"scale='trunc(min({POSTER_MAX_WIDTH},iw)/2)*2':-2",
        "-q:v", "3", "-c:v", "mjpeg", "-f", "image2pipe", "pipe:1",
    ]  # fmt: skip
    _tool_to_file(poster, fd=fd, dir_fd=dir_fd, name=POSTER, timeout=POSTER_TIMEOUT)

    plan = sprite_plan(duration=probe.duration, width=probe.width, height=probe.height)
    # showinfo logs each frame the sprite takes: a damaged recording gives fewer.
    filters = (
        f"fps=1/{plan.interval},showinfo,scale={plan.tile_width}:{plan.tile_height},"
        f"tile={plan.columns}x{plan.rows}"
    )
    # Keyframes only where they are at least as dense as the tiles: each tile is then at
    # most one tile's time early, and a long recording is read in a second or two rather
    # than decoded whole. A recorder that writes few keyframes gets every frame decoded.
    gap = keyframe_gap_max(fd=fd, duration=probe.duration)
    keyframes_only = ["-skip_frame", "nokey"] if gap is not None and gap <= plan.interval else []
    sprite = [
        ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-v", "info", *INPUT_OPTIONS,
        *keyframes_only, "-i", fd_input(fd), "-map", "0:v:0", "-vf", filters, "-frames:v", "1",
        "-q:v", "5", "-c:v", "mjpeg", "-f", "image2pipe", "pipe:1",
    ]  # fmt: skip
    timeout = SPRITE_TIMEOUT_MARGIN + probe.duration
    stderr = _tool_to_file(sprite, fd=fd, dir_fd=dir_fd, name=SPRITE, timeout=timeout)
    count = min(len(_SHOWINFO_FRAME.findall(stderr)), plan.count)
    if count == 0:
        raise PreviewError("ffmpeg: no frame could be decoded for the thumbnails")
    geometry = plan.geometry(count=count)
    text = thumbs_vtt(geometry=geometry, duration=probe.duration).encode()
    preview_file_put(dir_fd=dir_fd, name=THUMBS, fill=lambda out: _write_all(out, text))
    return geometry


def _tool_to_file(command: list[str], *, fd: int, dir_fd: int, name: str, timeout: float) -> bytes:
    """Run ``command`` with its output going to ``name`` in ``dir_fd`` (atomically: only a
    complete, non-empty output replaces it); its error output."""
    done: dict[str, bytes] = {}

    def fill(out: int) -> None:
        try:
            result = tool_run(command, fd=fd, timeout=timeout, stdout=out)
        except ProbeError as exc:
            raise PreviewError(str(exc)) from None
        if result.returncode != 0:
            raise PreviewError(tool_reason(tool="ffmpeg", stderr=result.stderr))
        if os.fstat(out).st_size == 0:
            raise PreviewError(f"ffmpeg: no picture for {name}")
        done["stderr"] = result.stderr

    preview_file_put(dir_fd=dir_fd, name=name, fill=fill)
    return done["stderr"]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
