"""Shared helpers for the machine AIR tests: assemble, execute, build tables, forge."""

from __future__ import annotations

import copy
import re

import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.machine.evaluate import compiled_air
from pyzkvm.stark import prove, verify
from pyzkvm.stark.debug import check_buses
from tests.rvasm import flatten, program


def run_machine(code, inputs=(), data: bytes = b""):
    """Assemble ``code``, execute it with a trace, and build the machine's tables."""
    prog = program(flatten(code), data=data)
    execution = execute(prog, inputs, capture_trace=True)
    chips = build_chips(prog)
    return chips, generate_tables(chips, execution), execution


def forged(tables, edit):
    """A deep copy of the tables with ``edit(copy)`` applied (the original stays valid)."""
    t = copy.deepcopy(tables)
    edit(t)
    return t


def unbalanced_buses(chips, tables, names, buses) -> set:
    """Which of ``buses`` do not balance over the syscall chip and the tables ``names`` alone
    (a quick bus check for a precompile's attacks; buses shared with other chips — memory,
    byte — never balance over so few tables, so only ``buses`` are asked about)."""
    names = ("syscall", *names)
    compiled = [compiled_air(chips.airs[chips.index(x)]) for x in names]
    try:
        check_buses(compiled, [None] * len(names), [([tables.traces[x] for x in names], tables.public_values)],
                    tables.public_data, seed=1)
    except ConstraintNotSatisfied as e:
        return set(re.findall(r"'([^']+)'", str(e))) & set(buses)
    return set()


def forced_proof_rejected(pk, chips, bad, expected, **prove_options):
    """Prove the tables ``bad`` past the prover's own constraint check
    (check_constraints_first=False) and verify the proof: the verifier must raise ``expected``
    (a VerificationError subclass: BusImbalance, OodEvaluationMismatch, …); returns that error."""
    proof = prove(pk, bad.in_order(chips), bad.public_values, check_constraints_first=False,
                  public_data=bad.public_data, **prove_options).to_bytes()
    with pytest.raises(expected) as err:
        verify(pk.verifying_key, proof, bad.public_values, public_data=bad.public_data)
    return err.value


def proof_verifies(pk, chips, tables) -> None:
    """The honest tables prove and the proof verifies (the baseline beside forced proofs)."""
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)


__all__ = ["run_machine", "forged", "check_machine", "unbalanced_buses", "forced_proof_rejected", "proof_verifies"]
