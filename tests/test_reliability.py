"""Issue 20: no traceback, hang or runaway memory on any input, nothing lost on interruption.

Every command here runs as a subprocess (``python -m pyzkvm`` with this checkout first on
PYTHONPATH) and is checked for: one ``pyzkvm: error:`` line, the documented exit status, and
where it matters the child's peak memory (its ru_maxrss, read with os.wait4).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.command_env import with_run_memo
from tests.peak_memory import LAUNCHER, peak_mib, with_peak_file
from tests.rvasm import DATA_BASE, TEXT_BASE, asm, elf, flatten, halt, syscall

ROOT = Path(__file__).resolve().parent.parent
FIB_ELF = ROOT / "guests" / "bin" / "fibonacci.elf"
WRITE, HINT_LEN, HINT_READ = 0x02, 0xF0, 0xF1
MiB = 1 << 20


class Result:
    def __init__(self, returncode, stdout, stderr, maxrss_mib):
        self.returncode, self.stdout, self.stderr, self.maxrss_mib = returncode, stdout, stderr, maxrss_mib

    @property
    def error_line(self) -> str:
        """The one error line of a failed command: the last stderr line, and the only one that is
        an error (the lines before it may only be progress lines, 'pyzkvm: LABEL: STEP', which a
        command prints once per phase when stderr is not a terminal and it runs over ~2 s)."""
        lines = self.stderr.splitlines()
        errors = [line for line in lines if line.startswith("pyzkvm: error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], self.stderr
        assert all(line.startswith("pyzkvm: ") for line in lines), self.stderr
        return errors[0]


def env_for_cli(**extra) -> dict:
    env = with_run_memo(dict(os.environ))
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PYZKVM_DEV_MODE", None)
    env.update(extra)
    return env


def cli(*args, cwd, stdout=None, env=None, timeout=120) -> Result:
    """Run ``python -m pyzkvm ARGS``: exit status, output, and the child's peak RSS in MiB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "-m", "pyzkvm", *[a if isinstance(a, bytes) else str(a) for a in args]],
            cwd=cwd, env=with_peak_file(env or env_for_cli(), peak_file), stdin=subprocess.DEVNULL,
            stdout=stdout or out, stderr=err,
        )  # fmt: skip
        deadline = time.monotonic() + timeout  # a guard against a hang, not a timing assertion
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise AssertionError(f"pyzkvm {args} hung")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        assert "Traceback" not in stderr, stderr
        return Result(proc.returncode, out.read().decode("utf-8", "replace"), stderr, peak_mib(peak_file, usage))


def guest(tmp_path: Path, name: str, code, **kw) -> Path:
    path = tmp_path / f"{name}.elf"
    path.write_bytes(elf(flatten(code), **kw))
    return path


def write_guest(tmp_path, fd: int, length: int, repeat: bool = False) -> Path:
    """WRITE ``length`` bytes (the code itself, then zeros) to ``fd``; once, or forever."""
    code = syscall(WRITE, fd, TEXT_BASE, length)
    if repeat:
        return guest(tmp_path, f"write{fd}-loop", [code, asm.jal(0, -4 * len(code))])
    return guest(tmp_path, f"write{fd}", [code, halt(0)])


# ---- 1. non-UTF-8 bytes in str: --------------------------------------------------------------


def test_str_input_passes_non_utf8_bytes_through(tmp_path):
    # the guest exits with the length of its first input element (HINT_LEN)
    length = guest(tmp_path, "hintlen", [asm.li(5, HINT_LEN), asm.ecall(), asm.addi(10, 5, 0), halt(None)])
    out = cli("run", length, "--input", b"str:\xff\xfe\x01", "--json", cwd=tmp_path)
    assert out.returncode == 1 and '"exit_code": 3' in out.stdout, out.stderr
    assert "raw bytes passed through" in " ".join(cli("run", "--help", cwd=tmp_path).stdout.split())


# ---- 2. stdout a full device, or a closed pipe -----------------------------------------------


@pytest.mark.parametrize("command", [["info", FIB_ELF], ["trace", FIB_ELF, "-n", "5", "-i", "u32:5"], ["backends"]])
def test_stdout_on_a_full_device_is_one_error_line(tmp_path, command):
    with open("/dev/full", "w") as full:
        out = cli(*command, cwd=tmp_path, stdout=full)
    assert out.returncode == 1
    assert out.error_line == "pyzkvm: error: cannot write to stdout: No space left on device"


def test_a_closed_pipe_ends_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "pyzkvm", "disasm", str(FIB_ELF)], cwd=tmp_path,
                            env=env_for_cli(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and stderr == ""


# ---- 3. no writable numba cache -------------------------------------------------------------


def test_no_writable_numba_cache_runs_uncached_with_one_warning(tmp_path):
    # An installed copy of the package whose __pycache__ folders cannot be created (a file is in
    # the way, which stops root too), HOME unusable, NUMBA_CACHE_DIR unset: a read-only install.
    shutil.copytree(ROOT / "pyzkvm", tmp_path / "pyzkvm", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [tmp_path / "pyzkvm", *(p for p in (tmp_path / "pyzkvm").rglob("*") if p.is_dir())]:
        (folder / "__pycache__").write_bytes(b"")
    env = env_for_cli(PYTHONPATH=str(tmp_path), HOME="/dev/null", PYTHONDONTWRITEBYTECODE="1")
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("XDG_CACHE_HOME", None)
    out = subprocess.run([sys.executable, "-c", "import pyzkvm.executor.interpreter; print('imported')"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0 and out.stdout == "imported\n", out.stderr
    (warning,) = out.stderr.splitlines()
    assert warning.startswith("pyzkvm: warning: no writable numba cache folder") and "NUMBA_CACHE_DIR" in warning


def test_numba_cache_folder_choice(tmp_path):
    from pyzkvm._numba_cache import choose_cache_dir

    checkout, installed = tmp_path / "checkout" / "pyzkvm", tmp_path / "site-packages" / "pyzkvm"
    checkout.mkdir(parents=True)
    installed.mkdir(parents=True)
    (checkout.parent / "pyproject.toml").write_text("")
    home = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert choose_cache_dir({**home, "NUMBA_CACHE_DIR": str(tmp_path / "mine")}, installed) == (str(tmp_path / "mine"), [])
    assert choose_cache_dir(home, checkout) == (None, [])  # a checkout keeps numba's in-tree cache
    assert choose_cache_dir(home, installed) == (str(tmp_path / "cache" / "pyzkvm" / "numba"), [])
    folder, tried = choose_cache_dir({"XDG_CACHE_HOME": "/dev/null", "NUMBA_CACHE_DIR": "/dev/null/x"}, installed)
    assert folder == "" and tried == ["NUMBA_CACHE_DIR=/dev/null/x", "/dev/null/pyzkvm/numba"]


# ---- 4, 5. usage errors: one line, naming the subcommand's --help ---------------------------


USAGE_ERRORS = [
    (["run"], "run"),
    (["run", FIB_ELF, "--max-cycles", "9223372036854775808"], "run"),
    (["prove", FIB_ELF, "--max-cycles", "0"], "prove"),
    (["run", FIB_ELF, "--max-output", "x"], "run"),
    (["prove", FIB_ELF, "--bogus"], "prove"),
    (["verify", "r.receipt"], "verify"),
    (["trace", FIB_ELF, "--steps", "0"], "trace"),
    (["info", FIB_ELF, "--abi", "x86"], "info"),
    (["inspect"], "inspect"),
    (["nonsense"], None),
]


def test_usage_errors_are_one_line_naming_the_commands_help(tmp_path, capsys):
    from pyzkvm.cli import main

    out = cli(*USAGE_ERRORS[1][0], cwd=tmp_path)  # the OverflowError of issue 20 item 4, as a command
    assert out.returncode == 2 and "over the largest accepted value" in out.error_line
    for args, command in USAGE_ERRORS:
        assert main([str(a) for a in args]) == 2, args
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith("pyzkvm: error: ") and line.endswith(f"(see 'pyzkvm{' ' + command if command else ''} --help')")


# ---- 6. huge zero-fill ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["info", "run"])
def test_an_image_too_large_is_refused_before_it_is_built(tmp_path, command):
    text = b"".join(w.to_bytes(4, "little") for w in halt(0))
    huge = guest(tmp_path, "bss", [], segments=[(TEXT_BASE, text, 5, None), (0x00400000, b"", 6, 256 * MiB)])
    out = cli(command, huge, cwd=tmp_path)
    assert out.returncode == 1 and "image limit" in out.error_line and "docs/limits.md" in out.error_line
    assert out.maxrss_mib < 400, out.maxrss_mib


# ---- 7. non-regular files -------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["info", "/dev/zero"], ["inspect", "/dev/zero"], ["run", FIB_ELF, "--input", "file:/dev/zero"],
    ["disasm", "FIFO"], ["verify", "FIFO", "--image-id", "00" * 32],
])  # fmt: skip
def test_devices_and_fifos_are_refused_not_read(tmp_path, args):
    os.mkfifo(tmp_path / "FIFO")
    out = cli(*args, cwd=tmp_path, timeout=60)
    assert out.returncode == 1 and "not a regular file" in out.error_line
    assert out.maxrss_mib < 400


def test_a_missing_file_is_exit_1_in_every_command(tmp_path, capsys, monkeypatch):
    from pyzkvm.cli import main

    monkeypatch.chdir(tmp_path)
    for args in (["run", "no.elf"], ["inspect", "no.receipt"], ["run", FIB_ELF, "-i", "file:no.bin"],
                 ["prove-batch", FIB_ELF, "--inputs", "no.txt"], ["aggregate", "no.receipt"],
                 ["aggregate", "x.receipt", "--elf", "no.elf"]):  # fmt: skip
        assert main([str(a) for a in args]) == 1, args
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith("pyzkvm: error: ") and ("no such file" in line or line.endswith("pass --elf")), args


# ---- 8. what a guest can make the host hold -------------------------------------------------


def test_guest_writes_past_a_cap_stop_with_a_fault_naming_it(tmp_path):
    from pyzkvm import Program
    from pyzkvm.errors import SyscallError
    from pyzkvm.executor import execute
    from pyzkvm.executor.host import set_default_caps

    for fd, channel, option in [(1, "output", "--max-output"), (2, "output", "--max-output"),
                                (3, "journal", "--max-journal"), (4, "hint", "--max-hint")]:  # fmt: skip
        writer = Program.from_elf(write_guest(tmp_path, fd, 4096))
        assert execute(writer).exit_code == 0  # under the default caps
        try:
            set_default_caps(**{channel: 4000})
            with pytest.raises(SyscallError, match=f"over the cap of 4,000; raise it with {option} BYTES"):
                execute(writer)
        finally:
            set_default_caps(output=64 * MiB, journal=64 * MiB, hint=64 * MiB)
    out = cli("run", write_guest(tmp_path, 3, 4096), "--max-journal", "4000", cwd=tmp_path)  # the option itself
    assert out.returncode == 1 and "over the cap of 4,000; raise it with --max-journal" in out.error_line


def test_a_guest_writing_forever_stops_at_the_cap_with_bounded_memory(tmp_path):
    for fd in (4, 1):  # 1 MiB per WRITE to the hint stream, then to stdout, in a loop
        out = cli("run", write_guest(tmp_path, fd, MiB, repeat=True), cwd=tmp_path)
        assert out.returncode == 1 and "over the cap of 67,108,864" in out.error_line
        assert out.maxrss_mib < 700, out.maxrss_mib


def test_a_2_gib_write_is_refused_before_it_is_copied(tmp_path):
    out = cli("run", write_guest(tmp_path, 1, 0x7FFF0000), cwd=tmp_path)
    assert out.returncode == 1 and "over the cap" in out.error_line
    assert out.maxrss_mib < 400, out.maxrss_mib


def test_trace_of_a_large_syscall_prints_bounded_lines(tmp_path):
    # 1 MiB to the hint stream, read back with HINT_READ: one syscall that writes 262,144 words
    reader = guest(tmp_path, "hint-read", [syscall(WRITE, 4, TEXT_BASE, MiB), syscall(HINT_LEN),
                                           syscall(HINT_READ, DATA_BASE, MiB), halt(0)])  # fmt: skip
    out = cli("trace", reader, "--steps", "60", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert max(map(len, out.stdout.splitlines())) < 4000 and " more words" in out.stdout


def test_trace_has_runs_output_caps_and_bounded_memory_on_a_64_mib_syscall(tmp_path):
    # 64 MiB to the hint stream, read back: two syscalls that touch 2 x 16 M words (trace events)
    reader = guest(tmp_path, "hint-read-64", [syscall(WRITE, 4, TEXT_BASE, 64 * MiB), syscall(HINT_LEN),
                                              syscall(HINT_READ, DATA_BASE, 64 * MiB), halt(0)])  # fmt: skip
    out = cli("trace", reader, "--steps", "60", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.maxrss_mib < 1100, out.maxrss_mib  # measured 926 MiB (1,245 MiB before the events stopped being copied)
    out = cli("trace", reader, "--steps", "60", "--max-hint", str(MiB), cwd=tmp_path)
    assert out.returncode == 1 and "over the cap of 1,048,576; raise it with --max-hint" in out.error_line
    helptext = " ".join(cli("trace", "--help", cwd=tmp_path).stdout.split())
    assert all(option in helptext for option in ("--max-output", "--max-journal", "--max-hint"))


# ---- 9. prove of a guest that never halts ---------------------------------------------------


def test_prove_of_a_runaway_guest_fails_at_execution_and_has_max_cycles(tmp_path):
    loop = guest(tmp_path, "loop", [asm.jal(0, 0)])
    out = cli("prove", loop, "--backend", "stark", "--max-cycles", "100000", cwd=tmp_path)
    assert out.returncode == 1 and "cycle limit exceeded" in out.error_line and "raise --max-cycles" in out.error_line
    assert list(tmp_path.glob("*.receipt")) == []
    out = cli("prove", loop, "--backend", "stark", cwd=tmp_path)  # the default limit, 2^26 cycles
    assert out.returncode == 1 and "ran 67108864 cycles" in out.error_line
    assert out.maxrss_mib < 1000


# ---- 10, 11. interrupts ---------------------------------------------------------------------


def _wait_until_running_the_guest(proc) -> None:
    """Until the child has loaded numba's dispatcher (it is then past startup, in the run)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        maps = Path(f"/proc/{proc.pid}/maps").read_text() if Path(f"/proc/{proc.pid}/maps").exists() else ""
        if "_dispatcher" in maps:
            time.sleep(1.0)
            return
        time.sleep(0.05)


@pytest.mark.parametrize("sig, status, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_an_interrupted_prove_exits_128_plus_signal_and_keeps_the_old_receipt(tmp_path, sig, status, word):
    # the guest makes an (empty) WRITE in a loop forever: Python gets control at every ecall
    spinner = write_guest(tmp_path, 1, 0, repeat=True)
    old = tmp_path / "old.receipt"
    old.write_bytes(b"the earlier receipt")
    proc = subprocess.Popen([sys.executable, "-m", "pyzkvm", "prove", str(spinner), "-b", "trace", "-o", str(old),
                             "--max-cycles", str(1 << 40)], cwd=tmp_path, env=env_for_cli(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_until_running_the_guest(proc)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status and stderr == f"pyzkvm: {word}\n"
    assert old.read_bytes() == b"the earlier receipt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.receipt", spinner.name]  # no temporary file left


def test_an_interrupt_ends_a_guest_that_loops_without_a_syscall(tmp_path):
    """`j .` never returns to Python through an ecall: the executor's compiled loop runs in slices
    (machine.SLICE_CYCLES), so the signal handler runs between them (a red-team review, session 25:
    only SIGKILL ended it)."""
    loop = guest(tmp_path, "spin", [asm.jal(0, 0)])
    proc = subprocess.Popen([sys.executable, "-m", "pyzkvm", "run", str(loop), "--max-cycles", str(1 << 40)],
                            cwd=tmp_path, env=env_for_cli(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_until_running_the_guest(proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and stderr == "pyzkvm: interrupted\n"


def test_an_interrupt_swallowed_on_its_way_up_still_writes_nothing(tmp_path):
    # Ctrl-C inside a ctypes callback (numba loading its cache) is printed and dropped by
    # Python; the flag the handler sets stops the write anyway.
    from pyzkvm.cli import _signals
    from pyzkvm.cli.prove import checking_interrupts, write_receipt

    previous = _signals.install()
    try:
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass  # swallowed
        with pytest.raises(KeyboardInterrupt):  # the prove stops at its next progress step ...
            checking_interrupts(None)("commit to trace data", 0.5)
        with pytest.raises(KeyboardInterrupt):  # ... and writes nothing
            write_receipt(None, tmp_path / "r.receipt", 0.0)
    finally:
        _signals.restore(previous)
    assert not (tmp_path / "r.receipt").exists()


def test_stale_segment_folders_of_dead_processes_are_removed(tmp_path, monkeypatch):
    from pyzkvm.backends.spill import SPILL_PREFIX
    from pyzkvm.fileio import remove_stale_temp_dirs

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f"{SPILL_PREFIX}{dead.pid}-abc").mkdir()
    (tmp_path / f"{SPILL_PREFIX}{dead.pid}-abc" / "segment0-table0.npy").write_bytes(b"x")
    (tmp_path / f"{SPILL_PREFIX}{os.getpid()}-def").mkdir()  # a live process's: kept
    assert remove_stale_temp_dirs(SPILL_PREFIX) == [tmp_path / f"{SPILL_PREFIX}{dead.pid}-abc"]
    assert [p.name for p in tmp_path.iterdir()] == [f"{SPILL_PREFIX}{os.getpid()}-def"]


# ---- 12. output targets ---------------------------------------------------------------------


@pytest.mark.slow  # ~10 s of proving under load; write_atomically's unit tests below cover the logic
def test_prove_output_onto_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    out = cli("prove", FIB_ELF, "-i", "u32:5", "-b", "trace", "-o", fifo, cwd=tmp_path)
    reader.join(timeout=60)
    assert out.returncode == 0, out.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and got and got[0].startswith(b"PYZKVMR\x00")


def test_write_atomically_writes_through_fifos_and_devices_and_follows_symlinks(tmp_path):
    from pyzkvm.fileio import write_atomically

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_atomically(fifo, b"receipt")
    reader.join(timeout=60)
    assert got == [b"receipt"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(OSError, match="No space left"):
        write_atomically("/dev/full", b"receipt")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    (tmp_path / "target").write_bytes(b"old")
    (tmp_path / "link").symlink_to("target")
    assert write_atomically(tmp_path / "link", b"new") == tmp_path / "target"
    assert (tmp_path / "link").is_symlink() and (tmp_path / "target").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link", "target"]


def test_output_errors(tmp_path):
    out = cli("prove", FIB_ELF, "-i", "u32:5", "-b", "trace", "-o", "", cwd=tmp_path)
    assert out.returncode == 2 and "-o/--output is empty" in out.error_line
    out = cli("prove", FIB_ELF, "-i", "u32:5", "-b", "trace", "-o", tmp_path / "no" / "x.receipt", cwd=tmp_path)
    assert out.returncode == 1 and "no such directory" in out.error_line
    out = cli("prove", FIB_ELF, "-i", "u32:5", "-b", "trace", "-o", tmp_path, cwd=tmp_path)
    assert out.returncode == 2 and "is a directory" in out.error_line
    assert list(tmp_path.iterdir()) == []


def test_an_output_with_a_trailing_slash_names_a_folder_not_a_file(tmp_path):
    # a folder not made yet, named with a trailing / (which Path drops): it was written as a file
    work = tmp_path / "work"
    work.mkdir()
    assert cli("prove", FIB_ELF, "-i", "u32:5", "-b", "trace", "-o", tmp_path / "in.receipt", cwd=tmp_path).returncode == 0
    for command in (["prove", FIB_ELF, "-i", "u32:5", "-b", "trace"], ["aggregate", "-b", "trace", tmp_path / "in.receipt"]):
        out = cli(*command, "-o", "newdir/", cwd=work)
        assert out.returncode == 2 and "-o newdir/ names a directory" in out.error_line
    assert list(work.iterdir()) == []


def test_the_default_receipt_path_never_names_an_earlier_receipt(tmp_path, monkeypatch):
    from pyzkvm.cli.prove import receipt_path

    monkeypatch.chdir(tmp_path)
    assert receipt_path(None, "fib", "trace", False) == Path("fib.trace.receipt")
    Path("fib.trace.receipt").write_bytes(b"earlier")
    Path("fib.trace-2.receipt").write_bytes(b"earlier")
    assert receipt_path(None, "fib", "trace", False) == Path("fib.trace-3.receipt")
    assert receipt_path(None, "fib", "trace", True) == Path("fib.trace.receipt")
    assert receipt_path("fib.trace.receipt", "fib", "trace", False) == Path("fib.trace.receipt")  # -o is explicit


@pytest.mark.slow  # three proofs
def test_prove_never_silently_overwrites_the_default_receipt(tmp_path):
    first = cli("prove", FIB_ELF, "-i", "u32:5", "-b", "trace", cwd=tmp_path)
    second = cli("prove", FIB_ELF, "-i", "u32:6", "-b", "trace", cwd=tmp_path)
    assert "receipt:    fibonacci.trace.receipt" in first.stdout
    assert "receipt:    fibonacci.trace-2.receipt" in second.stdout
    before = (tmp_path / "fibonacci.trace.receipt").read_bytes()
    forced = cli("prove", FIB_ELF, "-i", "u32:6", "-b", "trace", "--force", cwd=tmp_path)
    assert "receipt:    fibonacci.trace.receipt" in forced.stdout
    assert (tmp_path / "fibonacci.trace.receipt").read_bytes() != before


# ---- 13. minor ------------------------------------------------------------------------------


def test_hex_input_with_spaces_is_refused(capsys):
    from pyzkvm.cli import main

    assert main(["run", str(FIB_ELF), "--input", "hex:ab cd"]) == 2
    assert "no spaces" in capsys.readouterr().err


def test_trace_exits_1_when_the_guest_exits_non_zero_like_run(tmp_path, capsys):
    from pyzkvm.cli import main

    failing = guest(tmp_path, "exit3", [halt(3)])
    assert main(["run", str(failing)]) == 1
    assert main(["trace", str(failing)]) == 1 and "exit code 3" in capsys.readouterr().out


# ---- session 25's review of bad input ---------------------------------------------------------


def test_prove_refuses_to_write_its_receipt_over_its_own_input(tmp_path):
    victim = guest(tmp_path, "victim", [halt(0)])
    before = victim.read_bytes()
    out = cli("prove", victim, "--backend", "trace", "-o", victim, cwd=tmp_path)
    assert out.returncode == 2 and "is this command's input" in out.error_line
    assert victim.read_bytes() == before


def test_a_bad_scheduler_address_or_too_many_workers_is_one_line_and_leaves_no_folder(tmp_path):
    pytest.importorskip("distributed")
    prog = guest(tmp_path, "g", [halt(0)])
    (tmp_path / "inputs.txt").write_text("u32:1\n")
    for args, words in ((["--scheduler", "garbage"], "bad --scheduler address"),
                        (["--workers", str(100 * (os.cpu_count() or 1))], "worker processes per core")):
        out = cli("prove-batch", prog, "--inputs", tmp_path / "inputs.txt", "--out-dir", tmp_path / "out", "--backend",
                  "trace", *args, cwd=tmp_path)
        assert out.returncode != 0 and words in out.error_line and "Traceback" not in out.stderr
        assert not (tmp_path / "out").exists()


def test_the_library_refuses_untyped_arguments_with_usage_errors(tmp_path):
    import pyzkvm
    from pyzkvm.errors import UsageError
    from pyzkvm.program import Program

    for source in (None, 123):
        with pytest.raises(UsageError, match="a path or the ELF's bytes"):
            Program.from_elf(source)
    program = Program.from_elf(elf(flatten([halt(0)])))
    for bad in ("10", 1.5, 1 << 70, 0, True):
        with pytest.raises(UsageError, match="max_cycles must be an integer"):
            pyzkvm.execute(program, max_cycles=bad)
    with pytest.raises(UsageError, match="zk must be True, False or None"):
        pyzkvm.prove(program, backend="stark", preset="insecure_fast_for_tests", zk="no")


def test_prove_checks_its_cluster_options_before_running_the_guest(tmp_path, monkeypatch, capsys):
    """`prove --workers N` with too many workers, with --scheduler too, or with --assume, is a
    usage error before the run executes (too many workers was refused only after the tables
    and setup: a review, session 26)."""
    import pyzkvm.cli.prove as prove_cli
    from pyzkvm.cli import main

    prog = guest(tmp_path, "g", [halt(0)])
    monkeypatch.setattr(prove_cli, "_prove_and_write", lambda *a, **k: pytest.fail("the run started"))
    for args, words in ((["--workers", str(100 * (os.cpu_count() or 1))], "worker processes per core"),
                        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "give one of them"),
                        (["--workers", "0"], "--workers must be positive")):
        assert main(["prove", str(prog), "--backend", "trace", "-o", str(tmp_path / "r"), *args]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
