"""Serving a recording from Django with byte ranges, for the embedded mode of ``make run``.

Browsers seek in a <video> by asking for byte ranges; without 206 answers a recording could
only be watched from the start. Django's FileResponse does not answer ranges, so this does,
for the one-range requests browsers send (a multi-range request gets the whole file, which
RFC 9110 allows).
"""

import mimetypes
import os
import re
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

CHUNK = 256 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _requested_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) inclusive; None to send the whole file; False if unsatisfiable."""
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        return False
    return start, end


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        while length > 0:
            block = fh.read(min(CHUNK, length))
            if not block:
                return
            length -= len(block)
            yield block


def file_response(
    *, request: HttpRequest, path: Path, download: bool = False, content_type: str | None = None
) -> HttpResponse:
    size = os.stat(path).st_size
    content_type = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    span = _requested_range(request.headers.get("Range", ""), size)
    if span is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = span if span else (0, size - 1)
    length = last - first + 1 if size else 0
    if request.method == "HEAD":
        response = HttpResponse(status=206 if span else 200, content_type=content_type)
    else:
        response = StreamingHttpResponse(
            _read(path, first, length), status=206 if span else 200, content_type=content_type
        )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if span:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    if download:
        response["Content-Disposition"] = content_disposition_header(True, path.name)
    return response
