"""Where a recording's previews live on its storage server, and the one safe way there.

``PATH_DST/.previews/<FILE_NAME>/`` holds ``poster.jpg``, ``sprite.jpg`` and ``thumbs.vtt``.
The tree is hidden on purpose: the workstations' upload module refuses hidden destinations
(docker/storage/bootstrap.sh), so no workstation can put or replace a preview; nginx serves
it only through signed links (``location ^~ /.previews/``); reconcile and every other walk of
PATH_DST pass hidden entries by, so previews are never taken for recordings.

It is reached the way the recordings are (storage.paths): from a descriptor of PATH_DST, one
directory at a time with O_NOFOLLOW, so a symbolic link planted anywhere on the way is
refused, never followed, and nothing is written or deleted outside PATH_DST. A file is
written under a hidden temporary name beside its final one and renamed into place, so
nginx never serves half a JPEG and a run killed midway leaves the previous file whole.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable

from ..paths import _DIR_FLAGS, UnsafePath, _opened_a_symlink, _os_reason, file_name_check

PREVIEWS_DIR = ".previews"
POSTER = "poster.jpg"
SPRITE = "sprite.jpg"
THUMBS = "thumbs.vtt"
# The only files a preview directory holds, and the only names nginx serves from it.
PREVIEW_FILES = (POSTER, SPRITE, THUMBS)
CONTENT_TYPES = {POSTER: "image/jpeg", SPRITE: "image/jpeg", THUMBS: "text/vtt; charset=utf-8"}

# The modes the upload module gives recordings: the storage user writes, its group (nginx,
# the zone worker) reads, nobody else.
DIR_MODE = 0o750
FILE_MODE = 0o640
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class PreviewPathError(Exception):
    """The previews of this recording cannot be reached safely; the message says why."""


def preview_uri(*, file_name: str, part: str) -> str:
    """The path nginx serves ``part`` of the recording ``file_name``'s previews under (the
    uri a signed link's token is made over)."""
    return f"/{PREVIEWS_DIR}/{file_name}/{part}"


def preview_directory_make(*, root_fd: int, file_name: str) -> int:
    """A descriptor of ``.previews/<file_name>/`` under the PATH_DST descriptor ``root_fd``,
    the directories made (750) where missing. The caller closes it.

    Raises PreviewPathError for a name that is not a safe recording name, a link or a
    file in the way, or a directory that cannot be made.
    """
    chain = _walk(root_fd=root_fd, file_name=file_name, create=True)
    for fd in chain[:-1]:
        os.close(fd)
    return chain[-1]


def preview_file_put(*, dir_fd: int, name: str, fill: Callable[[int], None]) -> None:
    """Write ``name`` in the directory ``dir_fd`` atomically: ``fill`` writes the content to
    a new hidden file's descriptor, which then replaces ``name`` in one rename. If ``fill``
    raises, the temporary file is removed and nothing else changes."""
    temporary = f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temporary, _NEW_FILE_FLAGS, FILE_MODE, dir_fd=dir_fd)
    try:
        try:
            fill(fd)
            # The umask may have taken bits away; the group must read it (nginx).
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
        os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise


def previews_remove(*, root_fd: int, file_name: str) -> str:
    """Delete the recording ``file_name``'s previews directory and what is in it; "" when
    done or there was none, else why not (the caller reports it; the recording's own
    deletion stands).

    Only files directly in it are deleted (a link among them is removed as a link, never
    followed); a directory found inside is not ours and is left, with the directory.
    """
    try:
        chain = _walk(root_fd=root_fd, file_name=file_name, create=False)
    except FileNotFoundError:
        return ""
    except PreviewPathError as exc:
        return str(exc)
    try:
        directory = chain[-1]
        kept = []
        with os.scandir(directory) as entries:
            names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        for name, is_dir in names:
            if is_dir:
                kept.append(name)
                continue
            try:
                os.unlink(name, dir_fd=directory)
            except FileNotFoundError:
                continue
            except OSError as exc:
                return f"previews: {name}: {_os_reason(exc)}"
        if kept:
            return f"previews: left a directory that is not a preview: {', '.join(kept)}"
        parent = chain[-2]
        os.rmdir(file_name.rsplit("/", 1)[-1], dir_fd=parent)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"previews: {_os_reason(exc)}"
    finally:
        for fd in chain:
            os.close(fd)
    return ""


def _walk(*, root_fd: int, file_name: str, create: bool) -> list[int]:
    """The descriptors of ``.previews`` and of each directory of ``file_name`` below it,
    opened in turn without following a link; the last is the recording's own preview
    directory. FileNotFoundError when one is missing and ``create`` is false."""
    try:
        parts = [PREVIEWS_DIR, *file_name_check(file_name=file_name)]
    except UnsafePath as exc:
        raise PreviewPathError(f"previews: unsafe name: {exc}") from None
    chain: list[int] = []
    fd = root_fd
    try:
        for part in parts:
            fd = _directory_at(part, dir_fd=fd, create=create)
            chain.append(fd)
    except BaseException:
        for opened in chain:
            os.close(opened)
        raise
    return chain


def _directory_at(name: str, *, dir_fd: int, create: bool) -> int:
    made = False
    for _attempt in range(2):
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            if not create:
                raise
        except OSError as exc:
            if _opened_a_symlink(exc, name, dir_fd=dir_fd):
                raise PreviewPathError(f"previews: a symbolic link is in the way: {name}") from None
            if exc.errno == errno.ENOTDIR:
                raise PreviewPathError(f"previews: not a directory: {name}") from None
            raise PreviewPathError(f"previews: {name}: {_os_reason(exc)}") from None
        else:
            if made:
                os.fchmod(fd, DIR_MODE)  # whatever the umask took away: nginx reads with the group
            return fd
        try:
            os.mkdir(name, DIR_MODE, dir_fd=dir_fd)
            made = True
        except FileExistsError:
            pass  # made meanwhile by another run: open it
        except OSError as exc:
            raise PreviewPathError(f"previews: cannot make {name}: {_os_reason(exc)}") from None
    raise PreviewPathError(f"previews: {name} vanished while it was made")
