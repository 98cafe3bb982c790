"""A cold prove's helper process (pyzkvm/compile_ahead.py): its list of kernels, the claim
protocol between the prover and the helper, when it starts, and that it leaves nothing
behind. The protocol tests talk to a stand-in helper (a few lines of Python speaking the
same lines), so they compile nothing; the tests that run the real helper compile kernels
into an empty cache and are slow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pyzkvm import _numba_cache, compile_ahead, lazy_njit
from pyzkvm.compile_ahead import PROVE_KERNELS, CompileAhead, format_types, kernel, kernel_name, parse_types

ROOT = Path(__file__).resolve().parents[1]
FIB = ROOT / "guests" / "bin" / "fibonacci.elf"
POW = ("pyzkvm.stark.field", "_pow_kernel")


def test_every_listed_kernel_is_a_lazy_kernel_with_well_formed_argument_types():
    assert len({kernel_name(m, f) for m, f, _ in PROVE_KERNELS}) == len(PROVE_KERNELS)
    for module, function, args in PROVE_KERNELS:
        assert isinstance(kernel(module, function), lazy_njit.Kernel)
        types = parse_types(args)
        assert len(types) == args.count(",") + 1
        assert format_types(types) == args  # the recorder's form reads back the same


def test_argument_types_parse_to_numba_types():
    from numba.core import types

    assert parse_types("const u32[2d], i64, bool[1d], u64") == (
        types.Array(types.uint32, 2, "C", readonly=True), types.int64, types.Array(types.boolean, 1, "C"), types.uint64)
    with pytest.raises(ValueError, match="bad argument type"):
        parse_types("u32[4d]")
    with pytest.raises(ValueError, match="no form"):
        format_types((types.Array(types.uint32, 1, "A"),))


def stand_in(tmp_path, script: str) -> CompileAhead:
    """A CompileAhead talking to ``script`` (run as the helper) instead of the real helper."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return CompileAhead(proc)


@pytest.fixture
def one_kernel(monkeypatch) -> str:
    """A list of one kernel (so the prover has nothing else to compile while it waits): its name."""
    monkeypatch.setattr(compile_ahead, "PROVE_KERNELS", [(*POW, "const u32[1d], u64, u32[1d]")])
    return kernel_name(*POW)


def tell(helper: CompileAhead, line: str) -> None:
    helper.proc.stdin.write(line + "\n")
    helper.proc.stdin.flush()


def test_the_prover_waits_for_a_kernel_the_helper_claimed(tmp_path, one_kernel):
    name = one_kernel
    helper = stand_in(tmp_path, f"""
        import sys, pathlib
        print("want {name}", flush=True)
        pathlib.Path(sys.argv[1], "answer").write_text(sys.stdin.readline())
        pathlib.Path(sys.argv[1], "ready").touch()
        sys.stdin.readline()  # until the test lets it finish
        print("done {name}", flush=True)
    """)
    try:
        while not (tmp_path / "ready").exists():
            time.sleep(0.01)
        assert (tmp_path / "answer").read_text() == "yes\n"
        tell(helper, "go on")
        helper.first_use(kernel(*POW))  # returns once the helper said done
        assert name in helper._done and name not in helper._mine
    finally:
        helper.close()


def test_a_kernel_the_prover_claimed_first_is_refused_to_the_helper(tmp_path, one_kernel):
    name = one_kernel
    helper = stand_in(tmp_path, f"""
        import sys, pathlib
        sys.stdin.readline()  # the test's "go on": the prover has claimed the kernel
        print("want {name}", flush=True)
        pathlib.Path(sys.argv[1], "answer").write_text(sys.stdin.readline())
    """)
    try:
        helper.first_use(kernel(*POW))
        assert name in helper._mine
        tell(helper, "go on")
        helper.proc.wait(timeout=60)
        assert (tmp_path / "answer").read_text() == "no\n"
    finally:
        helper.close()


def test_a_helper_that_ends_early_does_not_hold_up_the_prover(tmp_path, one_kernel):
    name = one_kernel
    helper = stand_in(tmp_path, f"""
        import sys
        print("want {name}", flush=True)
        sys.stdin.readline()
        sys.exit(1)  # crashed before "done": the prover compiles the kernel itself
    """)
    try:
        helper.proc.wait(timeout=60)
        helper.first_use(kernel(*POW))
        assert helper._over and name not in helper._done
    finally:
        helper.close()


def test_no_helper_without_a_writable_cache_or_with_a_warm_one(monkeypatch):
    monkeypatch.setattr(_numba_cache, "is_writable_dir", lambda path: False)
    assert compile_ahead.start() is None
    monkeypatch.undo()
    monkeypatch.setattr(compile_ahead, "is_cached", lambda k: True)
    assert compile_ahead.start() is None
    monkeypatch.setenv("PYZKVM_COMPILE_AHEAD_HELPER", "1")  # a helper never starts another
    monkeypatch.setattr(compile_ahead, "is_cached", lambda k: False)
    assert compile_ahead.start() is None


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.slow
def test_the_helper_compiles_into_the_cache_only_and_stops_when_told(tmp_path):
    """The real helper, answered by hand: it compiles the kernel it is given into the cache
    folder, writes nothing else (its working folder, HOME and TMPDIR stay empty), and ends at
    SIGTERM leaving no temporary file in the cache."""
    cache, work, home, tmp = (tmp_path / d for d in ("cache", "work", "home", "tmp"))
    for d in (work, home, tmp):
        d.mkdir()
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(ROOT),
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen([sys.executable, "-m", "pyzkvm.compile_ahead", str(os.getpid())], cwd=work, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()
        assert first == ["want", kernel_name(*PROVE_KERNELS[0][:2])]
        proc.stdin.write("yes\n")
        proc.stdin.flush()
        assert proc.stdout.readline().split() == ["done", first[1]]
        assert proc.stdout.readline().split()[0] == "want"
        proc.stdin.write("no\n")  # refused: it asks for the next one
        proc.stdin.flush()
        assert proc.stdout.readline().split()[0] == "want"
        proc.stdin.write("yes\n")
        proc.stdin.flush()
        proc.send_signal(signal.SIGTERM)  # mid-compile (or mid-save: it ends after the save)
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
        proc.wait()
    assert files_under(work) == files_under(home) == files_under(tmp) == set()
    written = files_under(cache)
    assert any(name.endswith(".nbi") for name in written) and any(name.endswith(".nbc") for name in written)
    assert not [name for name in written if ".tmp." in name]
    # the first kernel was compiled into the cache: another process finds it there
    check = subprocess.run([sys.executable, "-c", "from pyzkvm import compile_ahead as c; "
                            "print(c.is_cached(c.kernel(*c.PROVE_KERNELS[0][:2])))"],
                           env=env, cwd=work, capture_output=True, text=True, check=True)
    assert check.stdout.strip() == "True"


@pytest.mark.slow
def test_a_cold_cli_prove_with_its_helper_gives_a_receipt_that_verifies(tmp_path):
    """A cold ``pyzkvm prove`` (empty cache: the helper runs) proves and verifies; a second
    prove, warm, starts no helper; the cache holds no temporary file."""
    cache = tmp_path / "cache"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), PYZKVM_MEMO_DIR=str(tmp_path / "memo"))
    receipt = tmp_path / "fib.receipt"

    def pyzkvm(*args):
        return subprocess.run([sys.executable, "-m", "pyzkvm", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True)

    proved = pyzkvm("prove", str(FIB), "--input", "u32:10", "-o", str(receipt))
    assert proved.returncode == 0, proved.stderr
    assert pyzkvm("verify", str(receipt), "--elf", str(FIB)).returncode == 0
    assert not [p for p in cache.rglob("*") if ".tmp." in p.name]
    warm = subprocess.run([sys.executable, "-c", "from pyzkvm import compile_ahead; print(compile_ahead.start())"],
                          env=env, capture_output=True, text=True, check=True)
    assert warm.stdout.strip() == "None"
