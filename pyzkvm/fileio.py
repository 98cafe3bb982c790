"""Reading and writing files so that no input can hang or flood pyzkvm, and no output is
ever left half-written.

Reading: only regular files are read (a FIFO would block forever, /dev/zero would never
end), and never more than a documented limit (pyzkvm/limits.py). Writing: through a
temporary file in the same folder and a rename, so an interrupted write leaves the old file
intact; a symlink is followed to its target, and a non-regular target (a device, a FIFO) is
written through rather than replaced.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import FileReadError


def read_file(path: str | os.PathLike, *, limit: int, what: str, error=FileReadError) -> bytes:
    """The bytes of the regular file ``path``, refusing anything larger than ``limit`` bytes.

    ``what`` names the file's role in messages ("ELF", "receipt"); ``error`` is the typed
    error to raise (a subclass of PyzkvmError)."""
    path = Path(path)
    a = f"a{'n' if what[:1] in ('A', 'E', 'I', 'O', 'U') else ''} {what}"  # (an ELF, a receipt)
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer; fstat refuses it next.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected {a} file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise error(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    st = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(st.st_mode):  # Linux opens a folder read-only without complaint
        problem = f"is a directory, expected {a} file"
    elif not stat.S_ISREG(st.st_mode):
        problem = f"not a regular file (a device, FIFO or socket): give the {what} as a file"
    elif st.st_size > limit:
        problem = f"{st.st_size:,} bytes, over the {limit:,}-byte limit for {a} (docs/limits.md)"
    if problem:
        os.close(fd)
        raise error(f"{path}: {problem}")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)  # a file that grows while being read is still capped
        except OSError as exc:
            raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{path}: over the {limit:,}-byte limit for {a} (docs/limits.md)")
    return data


def names_a_folder(given: str | os.PathLike | None) -> bool:
    """Whether an output path given as text ends in a separator (``out/``): it names a folder, made
    or not, never the file to write — and Path("out/") is Path("out"), so the check is on the text."""
    return isinstance(given, str) and given.endswith(("/", os.sep))


def write_atomically(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` so that it is never half-written; return the path written.

    A regular file (or a new one) is written through a temporary file in the same folder and
    a rename (``os.replace`` is atomic), so an interruption leaves the old file intact. A
    symlink is followed: its target is written, the link stays. A device, FIFO or other
    non-regular file is written through, never replaced (so ``-o /dev/full`` is ENOSPC, an
    error, and /dev/null stays a device). ``overwrite=False``: FileExistsError when anything
    is at ``path`` (a dangling symlink too), checked atomically at the end (a hard link of the
    temporary file, which fails where another process has put a file meanwhile)."""
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(17, "File exists", str(path))
    path = Path(os.path.realpath(path)) if overwrite else Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if mode is not None and not stat.S_ISREG(mode):
        target = _open_fifo_for_writing(path) if stat.S_ISFIFO(mode) else path  # (a FIFO: once a process reads it)
        with open(target, "wb") as f:  # write through; OSError (ENOSPC, EPIPE, ...) goes to the caller
            f.write(data)
            f.flush()
        return path
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # (no-clobber: EEXIST if a file appeared since the check)
            os.unlink(tmp)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


#: seconds a write to a FIFO waits for a process to open it for reading
FIFO_READER_WAIT_S = 10.0


def _open_fifo_for_writing(path: Path) -> int:
    """A blocking write descriptor of the FIFO ``path`` once a process reads it, waiting at
    most FIFO_READER_WAIT_S (a plain open blocks until a reader comes: forever, after the
    proving, with none; a review, session 27); OSError ENXIO when none came."""
    deadline = time.monotonic() + FIFO_READER_WAIT_S
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO while no process reads it
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if time.monotonic() > deadline:
                raise OSError(errno.ENXIO, f"no process opened the FIFO for reading within {FIFO_READER_WAIT_S:g} s; "
                                           "start its reader first") from None
            time.sleep(0.05)
            continue
        os.set_blocking(fd, True)
        return fd


@contextmanager
def empty_folders_removed_on_failure(folder: str | os.PathLike):
    """Around the creation of ``folder`` (and the work meant to fill it): on any exception, the
    folders it adds — ``folder`` and the parents that did not exist yet — are removed again
    while they are empty, so a command that fails to start leaves no empty folder behind."""
    folder = Path(folder)
    made = [d for d in (folder, *folder.parents) if not d.exists()]  # innermost first
    try:
        yield
    except BaseException:
        for d in made:
            if not d.is_dir() or any(d.iterdir()):
                break
            d.rmdir()
        raise


def remove_stale_temp_dirs(prefix: str) -> list[Path]:
    """Remove temporary folders ``<tmp>/<prefix><pid>-*`` whose process is gone (killed before
    it could clean up: SIGKILL, a power cut). Folders of live processes, or of another user's,
    are left alone. Returns the folders removed."""
    import shutil

    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid_text = path.name[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or not path.is_dir() or path.is_symlink() or _process_alive(int(pid_text)):
            continue
        if path.stat().st_uid != os.getuid():
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    return True
