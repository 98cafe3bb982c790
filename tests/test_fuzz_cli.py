"""Fuzzing the command line (issue 20): hypothesis over ELF header bytes, --input specs and
receipt bytes. Whatever the input, a command ends with status 0, 1 or 2, prints at most one
``pyzkvm: ...`` line on stderr (exactly one for status 2), never a traceback, and the whole
session stays under a memory ceiling.

The examples run in one child process (``drive``, calling ``pyzkvm.cli.main`` in-process, so
numba loads once) whose peak RSS is read with os.wait4; hypothesis is derandomized, so a
failure reproduces."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.peak_memory import LAUNCHER, peak_mib, with_peak_file

ROOT = Path(__file__).resolve().parent.parent
FIB_ELF = ROOT / "guests" / "bin" / "fibonacci.elf"
MEMORY_CEILING_MIB = 1500
EXAMPLES = {"elf": 120, "input": 150, "receipt": 150}


def run_cli(args: list[str]) -> tuple[int, str]:
    """(status, stderr) of ``pyzkvm ARGS`` run in this process; stdout is discarded."""
    from pyzkvm.cli import main

    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = main(args)
        except SystemExit as exc:  # argparse --help/--version only
            status = exc.code
    return status, err.getvalue()


def check_one_line(args, status, stderr, *, guest_may_fail=False) -> None:
    lines = stderr.splitlines()
    assert status in (0, 1, 2), (args, status, stderr)
    assert len(lines) <= 1 and all(line.startswith("pyzkvm: ") for line in lines), (args, stderr)
    if status == 2 or (status == 1 and not guest_may_fail):
        assert len(lines) == 1, (args, status, stderr)


def drive() -> None:
    """The fuzz session (runs in the child process)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import pyzkvm
    from pyzkvm.inputs import u32

    work = Path(tempfile.mkdtemp(prefix="pyzkvm-fuzz-"))
    os.chdir(work)
    fib = FIB_ELF.read_bytes()
    phnum = int.from_bytes(fib[44:46], "little")
    header_end = 52 + 32 * phnum  # ELF header and program headers
    receipt = pyzkvm.prove(pyzkvm.Program.from_elf(FIB_ELF), [u32(5)], backend="trace").to_bytes()
    image_id = pyzkvm.Program.from_elf(FIB_ELF).image_id.hex()

    def fuzz(n):
        return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                        suppress_health_check=list(HealthCheck))  # fmt: skip

    @fuzz(EXAMPLES["elf"])
    @given(st.lists(st.tuples(st.integers(0, header_end - 1), st.integers(0, 255)), min_size=1, max_size=6))
    def elf_headers(edits):
        data = bytearray(fib)
        for offset, value in edits:
            data[offset] = value
        Path("g.elf").write_bytes(data)
        args = ["run", "g.elf", "--input", "u32:5", "--json", "--max-cycles", "200000"]
        status, stderr = run_cli(args)
        check_one_line(args, status, stderr, guest_may_fail=True)

    kinds = st.sampled_from(["u32:", "u64:", "hex:", "str:", "file:", "", "x:"])
    spec = st.tuples(kinds, st.text(max_size=24)).map("".join) | st.text(max_size=24)

    @fuzz(EXAMPLES["input"])
    @given(st.lists(spec, min_size=1, max_size=3))
    def input_specs(specs):
        args = ["run", str(FIB_ELF), "--json", "--max-cycles", "200000"] + [a for s in specs for a in ("--input", s)]
        status, stderr = run_cli(args)
        check_one_line(args, status, stderr, guest_may_fail=True)

    mutation = st.one_of(
        st.tuples(st.just("set"), st.integers(0, len(receipt) - 1), st.integers(0, 255)),
        st.tuples(st.just("cut"), st.integers(0, len(receipt)), st.just(0)),
        st.tuples(st.just("insert"), st.integers(0, len(receipt)), st.integers(0, 255)),
    )

    @fuzz(EXAMPLES["receipt"])
    @given(st.lists(mutation, min_size=1, max_size=4))
    def receipt_bytes(edits):
        data = bytearray(receipt)
        for kind, offset, value in edits:
            if kind == "set" and offset < len(data):
                data[offset] = value
            elif kind == "cut":
                del data[offset:]
            elif kind == "insert":
                data[offset:offset] = bytes([value])
        Path("r.receipt").write_bytes(data)
        for args in (["inspect", "r.receipt"], ["verify", "r.receipt", "--image-id", image_id, "--dev-mode"]):
            status, stderr = run_cli(args)
            if args[0] == "verify" and status == 0:  # dev mode prints a warning line on success
                assert bytes(data) == receipt or "dev-mode" in stderr, stderr
                continue
            check_one_line(args, status, stderr)

    try:
        elf_headers()
        input_specs()
        receipt_bytes()
    finally:  # (it was left in /tmp, one folder per run)
        os.chdir(ROOT)
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow  # about 30–60 s on the shared 2-core machine
def test_fuzz_cli_one_line_exit_1_or_2_under_a_memory_ceiling():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYZKVM_DEV_MODE", None)
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, "-c", "from tests.test_fuzz_cli import drive; drive()"],
                                cwd=ROOT, env=with_peak_file(env, peak_file), stdout=log, stderr=log)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
        peak = peak_mib(peak_file, usage)
    assert os.waitstatus_to_exitcode(status) == 0, output[-6000:]
    assert peak < MEMORY_CEILING_MIB, peak


if __name__ == "__main__":  # pragma: no cover
    started = time.perf_counter()
    drive()
    print(f"fuzz session: {time.perf_counter() - started:.1f} s")
