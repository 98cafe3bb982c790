"""Shared plumbing for the backends that drive an external toolchain (risc0, sp1).

An adapter finds its tool, runs it with a deadline, and reads what it printed. Every way that
can go wrong becomes a one-line typed error (errors.ToolchainError):

* not found         -> the adapter's availability() says how to install it
* crashed           -> "r0vm crashed (exit code 101): <last stderr line>"
* hung              -> "r0vm hung: no result after 2 s (killed); raise PYZKVM_TOOL_TIMEOUT ..."
* printed garbage   -> "sp1-runner printed no JSON result line: <what it printed>"
* version mismatch  -> "r0vm 0.19.1 is not supported: pyzkvm supports >= 1.2, < 4"

It also holds the two small things both adapters need to hand a pyzkvm Program to a tool: a
minimal ELF writer (a Program keeps its segments, not its file) and the Rust helper builder
(source shipped in the package, built once with cargo into the user's cache directory).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from ..errors import DevModeReceiptError, ToolchainError, UsageError, VerificationError

if TYPE_CHECKING:  # pragma: no cover
    from ..program import Program

#: Seconds a tool may run before it is killed. Proving real programs takes minutes on a CPU,
#: so the default is generous; tests and impatient users set PYZKVM_TOOL_TIMEOUT or timeout=.
DEFAULT_TIMEOUT_S = 3600.0
TIMEOUT_ENV = "PYZKVM_TOOL_TIMEOUT"

#: Building a Rust helper downloads and compiles a large dependency tree the first time.
BUILD_TIMEOUT_S = 3600.0

#: terminal control sequences: CSI (colours, "erase line") and OSC (window titles, links)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")

#: what is kept of a tool's stdout and of its stderr: their last bytes (its result line, its
#: last error); the rest is read and dropped, so a huge or endless output costs no memory
#: (256 MiB of a tool's output took 1 GB: a review, session 27)
MAX_KEPT_OUTPUT_BYTES = 4 << 20

#: seconds a tool's pipes may stay open after it exits (a child of it holding them)
PIPE_GRACE_S = 5.0

#: set in a tool's environment to a fresh token per run: its descendants inherit it, so a hung
#: run's processes are found even after one left the process group (``setsid``, a daemon)
RUN_MARKER_ENV = "PYZKVM_TOOL_RUN"

#: a stdout line longer than this, or with more brackets (so nested deeper) than this, is not a
#: result line (json.loads is not given it: its C scanner recurses once per level, and a line of
#: 10^5 nested arrays crashed the interpreter where the recursion limit had been raised)
MAX_RESULT_LINE_BYTES = 1 << 20
MAX_RESULT_BRACKETS = 256


def tool_timeout(explicit: float | None = None) -> float:
    """The deadline for one tool run: ``explicit``, else $PYZKVM_TOOL_TIMEOUT, else 1 hour."""
    if explicit is not None:
        value, source = explicit, "timeout"
    else:
        raw = os.environ.get(TIMEOUT_ENV)
        if not raw:
            return DEFAULT_TIMEOUT_S
        try:
            value, source = float(raw), f"${TIMEOUT_ENV}"
        except ValueError:
            raise UsageError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if not (value > 0 and math.isfinite(value)):
        raise UsageError(f"{source} must be a positive number of seconds, not {value!r}")
    return float(value)


def find_tool(name: str, env_var: str | None = None) -> str | None:
    """Path of the executable ``name``: $env_var when set (must exist), else the first on PATH."""
    if env_var:
        override = os.environ.get(env_var)
        if override:
            p = Path(override).expanduser()
            return str(p) if p.is_file() and os.access(p, os.X_OK) else None
    return shutil.which(name)


def strip_ansi(text: str) -> str:
    """Text without terminal colour codes (tracing's log lines carry them)."""
    return _ANSI.sub("", text)


def last_line(text: str) -> str:
    """The last non-empty line of ``text`` (where a Rust panic or an error usually is), its
    control characters escaped: it is printed in pyzkvm's own messages and tables."""
    lines = [ln.strip() for ln in strip_ansi(text).splitlines() if ln.strip()]
    line = lines[-1][:300] if lines else "(no output)"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


@dataclass(frozen=True)
class ToolRun:
    """What one finished tool run printed."""

    stdout: str
    stderr: str
    elapsed_s: float


def run_tool(
    argv: Sequence[str],
    *,
    tool: str,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    timeout_hint: str = f"raise ${TIMEOUT_ENV} or pass timeout=",
) -> ToolRun:
    """Run ``argv`` to completion and return its output, or raise ToolchainError.

    The tool runs in its own process group so that a hang is ended by killing the whole
    group (a Rust prover may have spawned workers), and with a marker in its environment
    (RUN_MARKER_ENV) so that a descendant which left the group (``setsid``) is ended too; a
    non-zero exit status is a crash and the message carries the last stderr line.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    marker = os.urandom(8).hex()  # (what _kill_group finds the run's processes by)
    full_env[RUN_MARKER_ENV] = marker
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {tool} ({argv[0]}): {exc.strerror or exc}") from None
    born = _start_ticks(proc.pid)  # its descendants start no earlier: only those are scanned (_kill_group)
    tails = [_Tail(proc.stdout), _Tail(proc.stderr)]
    try:
        proc.wait(timeout=timeout)
        # the tool has exited; a child of it may still hold its pipes open: a few seconds for
        # the rest of its output, then its process group is ended and what was read is used
        for tail in tails:
            tail.join(min(PIPE_GRACE_S, max(0.0, started + timeout - time.monotonic())))
        if any(tail.is_alive() for tail in tails):
            _kill_group(proc)  # (the group only: a daemon the tool started on purpose is left)
            for tail in tails:
                tail.join(1.0)
    except subprocess.TimeoutExpired:
        _kill_group(proc, marker, born)
        raise ToolchainError(
            f"{tool} hung: no result after {timeout:g} s (killed); {timeout_hint} if it needs longer"
        ) from None
    except BaseException:
        _kill_group(proc, marker, born)
        raise
    elapsed = time.monotonic() - started
    stdout, stderr = (tail.text() for tail in tails)
    for tail in tails:
        if not tail.is_alive():  # (a pipe a detached grandchild still holds is left to it)
            tail.pipe.close()
    if proc.returncode != 0:
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        raise ToolchainError(f"{tool} crashed ({how}): {last_line(stderr or stdout)}")
    return ToolRun(stdout, stderr, elapsed)


class _Tail(threading.Thread):
    """Reads a pipe to its end, keeping its last MAX_KEPT_OUTPUT_BYTES (from a line's start)."""

    def __init__(self, pipe) -> None:
        super().__init__(daemon=True)
        self.pipe, self.kept, self.dropped = pipe, bytearray(), False
        self.start()

    def run(self) -> None:
        fd = self.pipe.fileno()
        while chunk := os.read(fd, 1 << 16):
            self.kept += chunk
            if len(self.kept) > 2 * MAX_KEPT_OUTPUT_BYTES:
                del self.kept[:-MAX_KEPT_OUTPUT_BYTES]
                self.dropped = True

    def text(self) -> str:
        kept = bytes(self.kept[-MAX_KEPT_OUTPUT_BYTES:])
        if self.dropped or len(self.kept) > MAX_KEPT_OUTPUT_BYTES:  # (a cut line is not a line)
            kept = kept[kept.find(b"\n") + 1:]
        return kept.decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen, marker: str | None = None, born: int | None = None) -> None:
    """End the tool's process group; with the run's ``marker`` (a hung or interrupted run),
    also every process still carrying it in its environment: a worker that called ``setsid``
    left the group but kept the environment (a few passes: one may fork while it is ended).
    ``born``: the tool's start time (_start_ticks), before which none of them started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if marker is not None:
        for _ in range(3):
            pids = marked_processes(marker, born)
            for pid in pids:
                _kill_marked(pid, marker)
            if not pids:
                break
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _kill_marked(pid: int, marker: str) -> None:
    """SIGKILL ``pid`` if it still carries the run's marker. Through a pidfd (Linux 5.3+): the
    marker is read again after the pidfd pins the process, so a PID that was freed and reused by
    an unrelated process since the scan is not signalled."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # (no pidfd here: a plain kill, a small PID-reuse window)
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return
    try:
        if _carries(pid, marker):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    finally:
        os.close(fd)


def _carries(pid: int, marker: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f"{RUN_MARKER_ENV}={marker}".encode() in f.read().split(b"\0")
    except OSError:  # gone meanwhile, or another user's
        return False


def marked_processes(marker: str, born: int | None = None) -> list[int]:
    """The processes whose environment holds RUN_MARKER_ENV=marker (Linux: /proc/PID/environ,
    readable for this user's processes; elsewhere none: only the process group is ended), of
    those started at ``born`` or later (/proc/PID/stat: a cheap read, where an environment's
    waits on the process's memory map; the machine's older processes are not looked at)."""
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    if born is not None:
        pids = [pid for pid in pids if (_start_ticks(pid) or 0) >= born]
    return [pid for pid in pids if pid != os.getpid() and _carries(pid, marker)]


def _start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])  # (after the name, which may hold spaces)
    except (OSError, IndexError, ValueError):
        return None


# ---- parsing what tools print -----------------------------------------------------------

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str, tool: str) -> tuple[int, int, int]:
    """The first MAJOR.MINOR.PATCH in ``text`` (e.g. ``r0vm 2.1.0`` -> (2, 1, 0))."""
    m = _VERSION.search(strip_ansi(text))
    if not m:
        raise ToolchainError(f"{tool} printed no version number (got {last_line(text)!r}); reinstall it")
    return int(m[1]), int(m[2]), int(m[3])


def check_version(version: tuple[int, int, int], lo: tuple[int, ...], hi: tuple[int, ...], tool: str) -> None:
    """Raise ToolchainError unless lo <= version < hi."""
    if not (tuple(lo) <= version < tuple(hi)):
        raise ToolchainError(
            f"{tool} {'.'.join(map(str, version))} is not supported: pyzkvm supports "
            f">= {'.'.join(map(str, lo))}, < {'.'.join(map(str, hi))}; install a supported version"
        )


def parse_json_line(stdout: str, tool: str, required: Sequence[str] = ()) -> dict:
    """The last stdout line that is a JSON object with the ``required`` keys, else garbage."""
    for line in reversed(strip_ansi(stdout).splitlines()):
        line = line.strip()
        if (not line.startswith("{") or len(line) > MAX_RESULT_LINE_BYTES
                or line.count("[") + line.count("{") > MAX_RESULT_BRACKETS):
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict):
            missing = [k for k in required if k not in obj]
            if missing:
                raise ToolchainError(f"{tool} printed a result without {', '.join(missing)}: {line[:200]}")
            return obj
    raise ToolchainError(f"{tool} printed no JSON result line (got {last_line(stdout)!r}); is it the right tool?")


def hex_field(obj: dict, key: str, tool: str, length: int | None = None) -> bytes:
    """``obj[key]`` decoded from hex (an optional 0x prefix allowed), else garbage."""
    value = obj.get(key)
    if not isinstance(value, str):
        raise ToolchainError(f"{tool} printed {key}={value!r}, expected a hex string")
    text = value[2:] if value.lower().startswith("0x") else value
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise ToolchainError(f"{tool} printed {key}={value[:80]!r}, which is not hex") from None
    if length is not None and len(data) != length:
        raise ToolchainError(f"{tool} printed a {key} of {len(data)} bytes, expected {length}")
    return data


def int_field(obj: dict, key: str, tool: str, top: int = (1 << 64) - 1) -> int:
    """``obj[key]`` as a non-negative integer no larger than ``top``, else garbage."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ToolchainError(f"{tool} printed {key}={value!r}, expected an integer in [0, {top}]")
    return value


# ---- handing a Program to a tool ----------------------------------------------------------


def guest_elf_bytes(program: "Program") -> bytes:
    """A minimal ELF32 RISC-V executable with the program's entry and loadable segments.

    A pyzkvm Program keeps the validated memory image, not the file it came from; external
    tools want a file. Layout: ELF header (52 bytes), one program header (32 bytes) per
    segment, then each segment's bytes at a 4-aligned offset. No sections, no symbols. Bytes
    past the last non-zero byte of a segment are left to p_memsz (zero-filled, like .bss).
    """
    segs = program.segments
    phoff = 52
    offset = phoff + 32 * len(segs)
    headers, bodies = bytearray(), bytearray()
    for seg in segs:
        body = seg.data.rstrip(b"\x00")
        offset = (offset + 3) & ~3
        pad = offset - (phoff + 32 * len(segs) + len(bodies))
        bodies += bytes(pad) + body
        # p_type PT_LOAD(1), p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
        headers += struct.pack("<8I", 1, offset, seg.vaddr, seg.vaddr, len(body), len(seg.data), seg.flags or 7, 4)
        offset += len(body)
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)  # ELFCLASS32, little-endian, version 1
    # e_type EXEC(2), e_machine RISC-V(243), e_version, e_entry, e_phoff, e_shoff, e_flags,
    # e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, program.entry, phoff, 0, 0, 52, 32, len(segs), 40, 0, 0)
    return header + bytes(headers) + bytes(bodies)


def write_guest_elf(program: "Program", path: Path, elf: str | os.PathLike | bytes | None = None) -> Path:
    """Write the guest ELF for a tool: the original file's bytes when given, else a rebuilt one."""
    if elf is None:
        data = guest_elf_bytes(program)
    elif isinstance(elf, (bytes, bytearray)):
        data = bytes(elf)
    else:
        try:
            data = Path(elf).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read guest ELF {elf}: {exc.strerror}") from None
    path.write_bytes(data)
    return path


# ---- Rust helpers shipped as source -------------------------------------------------------


def cache_dir() -> Path:
    """Where built helpers live: $PYZKVM_CACHE_DIR, else $XDG_CACHE_HOME/pyzkvm, else ~/.cache/pyzkvm."""
    if os.environ.get("PYZKVM_CACHE_DIR"):
        return Path(os.environ["PYZKVM_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pyzkvm"


def crate_fingerprint(crate: Path) -> str:
    """SHA-256 (16 hex digits) over the crate's Cargo.toml and src/: a new source, a new build."""
    h = hashlib.sha256()
    files = [crate / "Cargo.toml"] + sorted((crate / "src").rglob("*.rs"))
    for f in files:
        h.update(f.relative_to(crate).as_posix().encode() + b"\x00" + f.read_bytes() + b"\x00")
    return h.hexdigest()[:16]


def built_helper_path(crate: Path, binary: str) -> Path:
    """Where the cached build of ``crate`` puts ``binary`` (it may not exist yet)."""
    if not (crate / "Cargo.toml").is_file():
        raise ToolchainError(
            f"the source of the {binary} ({crate}) is missing from this installation: reinstall pyzkvm"
        )
    return cache_dir() / "tools" / f"{binary}-{crate_fingerprint(crate)}" / "target" / "release" / binary


def build_helper(crate: Path, binary: str, *, tool: str, env: Mapping[str, str] | None = None) -> Path:
    """Build the Rust crate at ``crate`` once with cargo and return the binary's path.

    The sources are copied into the cache directory first (the installed package may be
    read-only) and built there with ``cargo build --release``; a later call finds the binary
    and returns at once. Needs cargo and network access to crates.io the first time.
    """
    target = built_helper_path(crate, binary)
    if target.is_file():
        return target
    cargo = shutil.which("cargo")
    if cargo is None:
        raise ToolchainError(f"cargo not found: building the {tool} needs Rust (https://rustup.rs)")
    work = target.parents[2]
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy2(crate / "Cargo.toml", work / "Cargo.toml")
    if (work / "src").exists():
        shutil.rmtree(work / "src")
    shutil.copytree(crate / "src", work / "src")
    run_tool(
        [cargo, "build", "--release", "--manifest-path", str(work / "Cargo.toml")],
        tool=f"cargo build of the {tool}",
        timeout=BUILD_TIMEOUT_S,
        env=env,
        timeout_hint=f"run `cargo build --release` in {work} by hand",
    )
    if not target.is_file():
        raise ToolchainError(f"cargo built the {tool} but {target} is missing; see {work}")
    return target


def program_to_verify_against(program, elf, abi: str, image_id: bytes, why: str):
    """The guest a tool-backed receipt is verified against: loaded from ``elf`` (the bytes the
    tool is handed, write_guest_elf), else ``program``.

    The external toolchains derive their own keys from the ELF, so one of the two is required
    (``why`` says what for), and its pyzkvm image ID must be ``image_id``; given both, they must
    be one guest (else the ID checked would be one program's and the tool's key another's)."""
    if elf is not None:
        from ..program import Program

        loaded = Program.from_elf(elf, abi=abi)
        if program is not None and loaded.image_id != program.image_id:
            raise UsageError("program= and elf= are different guests (their image IDs differ): pass one of them")
        program = loaded
    if program is None:
        raise VerificationError(f"{why}: pass program= or elf= (CLI: --elf)")
    if program.image_id != bytes(image_id):
        raise VerificationError("the given program's image ID is not the expected image ID")
    return program


def mock_verification(receipt, dev: bool, made_how: str) -> bool:
    """Whether to run the tool's verifier in its own dev mode (which accepts a mock proof): only
    for a receipt that says it was made so, and only with dev mode on (``dev``: else such a
    receipt is refused). A receipt that says it is a proof is checked as one, whatever dev mode
    or PYZKVM_DEV_MODE say: its ``dev_mode`` param is the prover's label, bound by nothing, and
    turning it off must not let a mock proof through a mock verifier."""
    if receipt.params.get("dev_mode") and not dev:
        raise DevModeReceiptError(
            f"this {receipt.backend} receipt was made {made_how} and is not a proof: set PYZKVM_DEV_MODE=1 to accept it"
        )
    return dev and bool(receipt.params.get("dev_mode"))
