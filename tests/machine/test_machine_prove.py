"""The machine AIR through the real proof system: an honest run proves and verifies; a proof
forced from a forged statement does not verify. (A program without journal writes; journal
binding and more forced proofs: test_machine_forced_proofs.py.)"""

from __future__ import annotations

import pytest

from pyzkvm.errors import VerificationError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forged, run_machine
from tests.rvasm import DATA_BASE, asm, halt

CODE = [asm.li(1, DATA_BASE), asm.lw(2, 1, 0), asm.addi(2, 2, 5), asm.sw(2, 1, 4), asm.lw(3, 1, 4),
        asm.mul(4, 3, 3), asm.srli(10, 4, 3), halt(None)]


@pytest.fixture(scope="module")
def proved():
    chips, tables, execution = run_machine(CODE, data=(37).to_bytes(4, "little") + bytes(4))
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    proof = prove(pk, tables.in_order(chips), tables.public_values)
    return chips, tables, execution, pk, proof.to_bytes()


def test_honest_run_proves_and_verifies(proved):
    chips, tables, execution, pk, proof = proved
    assert execution.exit_code == (42 * 42) >> 3
    assert tables.public_values[:4] == list(execution.exit_code.to_bytes(4, "little"))
    report = verify(pk.verifying_key, proof, tables.public_values)
    assert report.proof_bytes == len(proof)


def test_proof_does_not_verify_another_exit_code(proved):
    chips, tables, execution, pk, proof = proved
    other = list(tables.public_values)
    other[0] ^= 1
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, proof, other)


def test_forced_proof_of_a_forged_trace_fails_verification(proved):
    """Claim a different exit code and force a proof past the prover's own check."""
    chips, tables, execution, pk, _ = proved
    bad = forged(tables, lambda t: t.public_values.__setitem__(0, t.public_values[0] ^ 1))
    proof = prove(pk, bad.in_order(chips), bad.public_values, check_constraints_first=False)
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, proof.to_bytes(), bad.public_values)


def test_forced_proof_of_a_stale_read_fails_verification(proved):
    """A load that returns a stale word breaks the memory bus: the verifier's bus check fails."""
    from pyzkvm.errors import BusImbalance
    from pyzkvm.machine.cpu import CPU

    chips, tables, execution, pk, _ = proved

    def edit(t):
        t.traces["cpu"][5, CPU.a[0]] ^= 1  # row 5 (lw x3) claims another value of x1
    bad = forged(tables, edit)
    proof = prove(pk, bad.in_order(chips), bad.public_values, check_constraints_first=False)
    with pytest.raises(BusImbalance):
        verify(pk.verifying_key, proof.to_bytes(), bad.public_values)


def test_quotient_evaluated_by_blocks_gives_the_same_proof(proved, monkeypatch):
    """The prover evaluates the constraints on blocks of QUOTIENT_BLOCK_ROWS rows of the
    quotient domain (to bound memory); with blocks of 2^12 rows the byte table (2^16 rows, its
    LogUp running sum reading the next row) is split into many blocks, and the machine proof
    verifies and is byte-identical to the one-block proof (Fiat–Shamir over the same data).
    Blocks of 16 rows, splitting every table, are tested on small AIRs
    (tests/stark/test_prover_shapes.py): here they would cost minutes for no more coverage."""
    from pyzkvm.stark import prover

    chips, tables, execution, pk, proof = proved
    assert tables.traces["bytes"].shape[0] > 1 << 12  # its quotient domain is ≥ 2 blocks
    monkeypatch.setattr(prover, "QUOTIENT_BLOCK_ROWS", 1 << 12)
    small = prove(pk, tables.in_order(chips), tables.public_values).to_bytes()
    verify(pk.verifying_key, small, tables.public_values)
    assert small == proof
