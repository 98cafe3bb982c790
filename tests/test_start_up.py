"""The executor's Python start (pyzkvm/executor/python_start.py) and lazy kernels (pyzkvm/lazy_njit.py).

A process's first cycles run the loop's own source in Python, then the compiled loop takes
over: both must give the same run, bit for bit (journal, exit code, cycles, registers, the
instruction counts and every trace column), and a hand-over in the middle of a run must be
invisible. The guests are the prebuilt ELFs, the RV32IM self-test among them (every
instruction against its specification); the unicorn differential tests check the compiled
loop against an independent CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyzkvm.executor import execute, python_start
from pyzkvm.executor.decode import decode_range
from pyzkvm.inputs import risc0_bytes
from pyzkvm.program import Program

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "guests" / "bin"
# (ELF, abi, inputs): each guest's own input shape (tests/test_unicorn_diff.py's GUEST_INPUTS)
GUESTS = [
    ("fibonacci", "sp1", [(300).to_bytes(4, "little")]),
    ("sha256", "sp1", [bytes(range(200))]),
    ("sort", "sp1", [b"".join(x.to_bytes(4, "little") for x in (5, 3, 9, 1, 0, 7, 7, 2, 0xFFFFFFFF))]),
    ("rv32im-selftest", "sp1", []),
    ("panic", "sp1", []),
    ("isqrt-hint", "sp1", [(1_000_003).to_bytes(4, "little")]),
    ("aggregator", "sp1", [(2).to_bytes(4, "little"), bytes(range(64)), bytes(range(64, 128))]),
    ("risc0/sort", "risc0", [risc0_bytes(b"".join(x.to_bytes(4, "little") for x in (3, 7, 1, 2)))]),
    ("risc0/rv32im-selftest", "risc0", []),
]


def run(name, abi, inputs, *, python_cycles):
    """``execute`` (with the trace) with ``python_cycles`` of Python start, then compiled; and the
    Python cycles left unused (0: it handed over)."""
    saved = python_start.compiled_loaded, python_start._cycles_left
    python_start.compiled_loaded = lambda: False  # this process has loaded it: pretend not
    python_start._cycles_left = python_cycles
    try:
        execution = execute(Program.from_elf(BIN / f"{name}.elf", abi=abi), inputs, capture_trace=True)
        return execution, python_start._cycles_left
    finally:
        python_start.compiled_loaded, python_start._cycles_left = saved


def same_run(a, b) -> None:
    assert (a.journal, a.exit_code, a.cycles, a.final_registers, a.final_pc, a.stdout, a.stderr) == \
        (b.journal, b.exit_code, b.cycles, b.final_registers, b.final_pc, b.stdout, b.stderr)
    assert a.report.instructions == b.report.instructions
    for name in a.trace.columns:
        assert np.array_equal(a.trace.columns[name], b.trace.columns[name]), name
    for name, col in a.trace.syscall_events.items():
        assert np.array_equal(col, b.trace.syscall_events[name]), name


@pytest.mark.parametrize("name, abi, inputs", GUESTS, ids=[g[0] for g in GUESTS])
def test_the_python_loop_runs_every_guest_as_the_compiled_loop_does(name, abi, inputs):
    compiled, _ = run(name, abi, inputs, python_cycles=0)
    python, left = run(name, abi, inputs, python_cycles=10**9)
    assert 0 < left < 10**9 - compiled.cycles  # both runs (sizing, traced) in Python, no hand-over
    same_run(python, compiled)


@pytest.mark.parametrize("at", [1, 137, 3000])  # 1, 137: in the sizing run; 3000: in the traced run
def test_a_hand_over_in_the_middle_of_a_run_is_invisible(at):
    compiled, _ = run("sha256", "sp1", [bytes(range(200))], python_cycles=0)
    handed, left = run("sha256", "sp1", [bytes(range(200))], python_cycles=at)
    assert left == 0 and at < 2 * compiled.cycles  # it did hand over, inside the run
    same_run(handed, compiled)


def test_the_python_decoder_decodes_every_word_as_the_compiled_one():
    rng = np.random.default_rng(7)
    words = np.concatenate([rng.integers(0, 1 << 32, 4000, dtype=np.uint64).astype(np.uint32),
                            np.fromfile(BIN / "rv32im-selftest.elf", dtype=np.uint8)[:16000].view(np.uint32)])
    out = [(np.zeros(len(words), np.int64), np.zeros(len(words), np.int64)) for _ in range(2)]
    decode_range(words, 0, len(words), *out[0])
    decode_range.python()(words, 0, len(words), *out[1])
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])


CHILD = """
import json, sys
from pyzkvm.cli import main
status = main(sys.argv[1:])
heavy = [m for m in ("numba", "llvmlite", "galois", "dask", "rich.progress") if m in sys.modules]
print(json.dumps([status, heavy]))
"""


def child(argv, memo_dir) -> tuple:
    """(exit status, heavy modules loaded) of ``pyzkvm ARGV`` in a fresh process that uses
    ``memo_dir`` as its memo (pyzkvm/memo.py; the suite's own is off)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYZKVM_MEMO_DIR=str(memo_dir))
    env.pop("PYZKVM_NO_MEMO", None)
    out = subprocess.run([sys.executable, "-c", CHILD, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    return tuple(json.loads(out.splitlines()[-1]))


def test_info_and_a_short_trace_prove_never_load_numba(tmp_path):
    elf = str(BIN / "fibonacci.elf")
    # an empty memo: info computes the image ID (numpy's transforms and hashes, machine/prep_root.py)
    assert child(["info", elf], tmp_path) == (0, [])
    assert child(["prove", elf, "--input", "u32:10", "--backend", "trace", "-o", str(tmp_path / "r")], tmp_path) == (0, [])
    # the test can fail: a run longer than the Python budget loads the compiled loop
    assert child(["run", elf, "--input", f"u32:{python_start.PYTHON_CYCLES}"], tmp_path)[1] == ["numba", "llvmlite"]


def test_importing_every_kernel_module_loads_no_numba():
    code = ("import sys, pyzkvm.stark, pyzkvm.machine, pyzkvm.executor.interpreter, pyzkvm.stark.ntt, "
            "pyzkvm.stark.blake3_numba, pyzkvm.stark.tape, pyzkvm.stark.lde_source, pyzkvm.stark.lincomb; "
            "print('numba' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_a_kernel_pickles_by_name_and_calls_other_kernels_when_compiled():
    import pickle

    from pyzkvm import lazy_njit
    from pyzkvm.stark import ext, field

    assert pickle.loads(pickle.dumps(field.f_mul)) is field.f_mul
    # e_inv (a kernel) calls norm_conj4, f_inv, f_mul (kernels, two inlined): compiled, and as Python source
    assert isinstance(ext.e_inv, lazy_njit.Kernel) and isinstance(ext.norm_conj4, lazy_njit.Kernel)
    a = np.array([3, 1, 4, 1592653], dtype=np.uint32)
    inverse = ext.e_inv(a)
    assert np.array_equal(inverse, ext.e_inv.python()(a))
    assert np.array_equal(ext.e_mul(a, inverse), [1, 0, 0, 0])
