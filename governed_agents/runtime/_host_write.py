"""Host-side writes into a directory the sandboxed code can write: never through what it planted."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["vouched_files", "write_new_file"]


def write_new_file(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` as a fresh regular file. A symlink, FIFO or anything else the code
    left at that name is removed first, never followed (``O_NOFOLLOW``, then ``O_EXCL``)."""
    target = Path(path)
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        fd = -1
    except OSError:  # ELOOP: a symlink; ENXIO: a FIFO without a reader; EISDIR …
        fd = -1
        _remove(target)
    else:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            fd = -1
            _remove(target)
        else:
            os.close(fd)
            fd = -1
            os.unlink(target)  # a hard link to a host file would be written through otherwise
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(f"{path} is a directory")
    path.unlink()


def vouched_files(work_dir: str | os.PathLike[str], modules: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """What the runtime binds read-only for the modules vouched for in ``work_dir`` (AutoGen's
    ``functions``): each one's source, and the work dir's ``__pycache__`` — made a real directory
    here, without any compiled copy of those modules (one a run planted there, with the source's
    size and time in its header, would be imported in place of the source)."""
    if not modules:
        return ()
    work = Path(work_dir)
    files = [str(work / f"{module}.py") for module in modules
             if (work / f"{module}.py").is_file() and not (work / f"{module}.py").is_symlink()]
    cache = work / "__pycache__"
    if cache.is_symlink() or (cache.exists() and not cache.is_dir()):
        _remove(cache)
    cache.mkdir(exist_ok=True)
    for module in modules:
        for compiled in cache.glob(f"{module}.*.pyc"):
            compiled.unlink()
    return (*files, str(cache))
