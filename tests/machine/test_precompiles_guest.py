"""The precompiles guest (guests/precompiles: every SP1 precompile family, on points k·G) in the
machine: its tables pass the debug check (not slow), and — slow — `pyzkvm prove` with the
default stark backend then `pyzkvm verify`; plus a forced proof of a forged Weierstrass table,
which does not verify. The journal's values are checked against independent oracles in
tests/test_sp1_precompiles.py (test_precompiles_guest_journal_is_what_the_oracles_give)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from pyzkvm.errors import BusImbalance
from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forced_proof_rejected, forged
from tests.machine.test_machine_weierstrass import doubling_run

ROOT = Path(__file__).resolve().parents[2]
ELF = ROOT / "guests" / "bin" / "precompiles.elf"
K = 5


def test_the_guests_tables_pass_the_debug_check():
    program = Program.from_elf(ELF)
    execution = execute(program, [struct.pack("<I", K)], capture_trace=True)
    chips = build_chips(program)
    tables = generate_tables(chips, execution)
    check_machine(chips, tables)
    used = {name for name, t in tables.traces.items() if t.any()}
    for chip in ("secp256k1 add", "bls12381 double", "secp256r1 decompress", "bls12381 fp2 mul", "uint256 mul",
                 "u256x2048 mul"):
        assert chip in used


@pytest.mark.slow
def test_the_guest_proves_and_verifies_with_the_cli(tmp_path):
    """`pyzkvm prove` (default backend: stark, DEFAULT preset) then `pyzkvm verify`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYZKVM_DEV_MODE", None)

    def cli(*args):
        out = subprocess.run([sys.executable, "-m", "pyzkvm", *map(str, args)], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        return out

    cli("prove", ELF, "--input", f"u32:{K}", "-o", "p.receipt")
    receipt = Receipt.from_bytes((tmp_path / "p.receipt").read_bytes())
    assert receipt.backend == "stark"
    assert receipt.journal == execute(Program.from_elf(ELF), [struct.pack("<I", K)]).journal
    out = cli("verify", "p.receipt", "--elf", ELF)
    assert "verified: stark receipt" in out.stdout


@pytest.mark.slow
def test_a_forced_proof_of_a_wrong_point_written_does_not_verify():
    """secp256k1 ADD's WRITE of x3 with one bit flipped (memory and chip row alike): the honest
    proof verifies, the forced one fails on the field value bus."""
    chips, tables, _ = doubling_run("secp256k1")
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)
    air = chips.airs[chips.index("secp256k1 add")]
    L = air.layout()
    row = next(k for k, s in enumerate(air.steps) if s.check == "x3")

    def edit(t):
        t.traces["secp256k1 add"][row, L.r[5]] ^= 1

    bad = forged(tables, edit)
    forced_proof_rejected(pk, chips, bad, BusImbalance)
