"""Where a recording lives on its storage server, and the refusal of anything that would
reach outside the zone's PATH_DST.

One rule for every place that touches a file by its ``FILE_NAME`` (the embedded player, the
retention purge, reconciliation): the name is relative, made of plain segments, with no
symbolic link anywhere on the way, and it resolves inside PATH_DST.
"""

import os
from pathlib import Path


class UnsafePath(ValueError):
    """A file name that must not be followed: it could reach outside PATH_DST."""


def file_path_resolve(*, root: str | Path, file_name: str, allow_hidden: bool = False) -> Path:
    """The absolute path of ``file_name`` under ``root``, or UnsafePath saying why not.

    The file itself need not exist (a purge treats a missing file as already deleted); every
    part of the path that does exist must be a real directory or file, not a symlink.
    """
    if not file_name or "\x00" in file_name:
        raise UnsafePath("empty name or NUL byte")
    if file_name.startswith("/") or "\\" in file_name:
        raise UnsafePath("absolute name or backslash")
    parts = file_name.split("/")
    for part in parts:
        if part in {"", ".", ".."}:
            raise UnsafePath("empty, '.' or '..' segment")
        if part.startswith(".") and not allow_hidden:
            raise UnsafePath("hidden file or directory")
    root_path = Path(os.path.abspath(root))
    if os.path.realpath(root_path) != str(root_path):
        raise UnsafePath("PATH_DST itself is or passes through a symlink")
    candidate = root_path.joinpath(*parts)
    current = root_path
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise UnsafePath("symbolic link in the path")
    if os.path.commonpath([root_path, os.path.realpath(candidate)]) != str(root_path):
        raise UnsafePath("resolves outside PATH_DST")
    return candidate
