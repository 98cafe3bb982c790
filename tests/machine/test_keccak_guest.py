"""The keccak256 guest (guests/keccak256: Keccak-256 with KECCAK_PERMUTE) against an independent
Keccak-256 (tests/machine/keccak_reference.py, FIPS 202 with Keccak's 0x01 padding), and proved
end to end: `pyzkvm prove` with the default stark backend, then `pyzkvm verify`. Also forced
proofs of forged keccak tables, which do not verify."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyzkvm.errors import BusImbalance, ConstraintNotSatisfied, OodEvaluationMismatch
from pyzkvm.executor import execute
from pyzkvm.machine import check_machine
from pyzkvm.machine.keccak import KECCAK_WORDS, permutation_states
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.keccak_reference import keccak256
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine
from tests.machine.test_machine_keccak import STATE
from tests.rvasm import DATA_BASE, halt, syscall

ROOT = Path(__file__).resolve().parents[2]
ELF = ROOT / "guests" / "bin" / "keccak256.elf"
MESSAGE = bytes((i * 37 + 11) & 0xFF for i in range(1024))  # 1 KB: 8 permutations


@pytest.mark.parametrize("length", [0, 135, 136, 1024])
def test_guest_digest_is_keccak256(length):
    msg = MESSAGE[:length]
    ex = execute(Program.from_elf(ELF), [msg])
    assert ex.exit_code == 0
    assert ex.journal == keccak256(msg)
    assert ex.report.syscalls["KECCAK_PERMUTE"] == length // 136 + 1


@pytest.mark.slow
def test_guest_keccak256_of_1kb_proves_and_verifies_with_the_cli(tmp_path):
    """`pyzkvm prove` (default backend: stark, DEFAULT preset) then `pyzkvm verify`."""
    (tmp_path / "msg.bin").write_bytes(MESSAGE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYZKVM_DEV_MODE", None)

    def cli(*args):
        out = subprocess.run([sys.executable, "-m", "pyzkvm", *map(str, args)], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        return out

    cli("prove", ELF, "--input", "file:msg.bin", "-o", "k.receipt")
    receipt = Receipt.from_bytes((tmp_path / "k.receipt").read_bytes())
    assert receipt.journal == keccak256(MESSAGE)
    assert receipt.backend == "stark"
    out = cli("verify", "k.receipt", "--elf", ELF)
    assert "verified: stark receipt" in out.stdout


def _proof_setup(code, data):
    chips, tables, _ = run_machine(code, data=data)
    return chips, tables, setup(INSECURE_FAST_FOR_TESTS, chips.airs)


def _forced(chips, bad, pk, expected):
    forced_proof_rejected(pk, chips, bad, expected)


def _forged_states(lanes, first=0, end=24):
    """Keccak-f with one bit of round 7's output flipped (a wrong round the rest follows)."""
    assert (first, end) == (0, 24)
    states = permutation_states(lanes, 0, 8)
    wrong = states[-1].copy()
    wrong[:, 3] ^= np.uint64(1)
    return states[:-1] + permutation_states(wrong, 8, 24)


@pytest.mark.slow
def test_forced_proofs_of_forged_keccak_tables_do_not_verify(monkeypatch):
    code = [syscall(0x00010109, DATA_BASE, 0), syscall(0x02, 3, DATA_BASE, 200), halt(0)]
    chips, tables, pk = _proof_setup(code, STATE)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)  # honest: verifies

    def write_never_happened(t):  # word 5 left as it was in memory, the permute chip unchanged
        words = t.traces["keccak words"]
        words[5, KECCAK_WORDS.after] = words[5, KECCAK_WORDS.before]

    _forced(chips, forged(tables, write_never_happened), pk, BusImbalance)

    # a wrong round 7 that everything else agrees with: the executor's permutation and the
    # chip's rows both follow it, so every bus balances (the journal is the forged digest) and
    # only the round's transition constraint is broken
    import pyzkvm.executor.sp1 as sp1
    import pyzkvm.machine.keccak as keccak

    def forged_f(lanes):
        out = _forged_states(np.array(lanes, dtype=np.uint64)[None, :])[-1][0]
        return [int(v) for v in out]

    monkeypatch.setattr(sp1, "keccak_f1600", forged_f)
    monkeypatch.setattr(keccak, "permutation_states", _forged_states)
    chips, bad, _ = run_machine(code, data=STATE)
    assert bad.journal != tables.journal
    with pytest.raises(ConstraintNotSatisfied, match=r"round output lane .* is the next row's state' fails at row 7"):
        check_machine(chips, bad)
    _forced(chips, bad, pk, OodEvaluationMismatch)
