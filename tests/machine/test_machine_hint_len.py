"""HINT_LEN's answer is bound to the input the run reads (syscall.py: the hint promise).

SP1's executor answers HINT_LEN with the length of the input element at the front of the queue
(0xFFFFFFFF when none is left), and HINT_READ must read exactly that many bytes. The AIR once
range-checked the answer and nothing more, so a guest that asks HINT_LEN, reads a 4-byte
element and exits with the answer got a verified receipt for exit code 9 — a run no input
makes (a red-team finding, session 24). Now a HINT_LEN promises its answer in two memory cells
and the next HINT_READ must read that length; a second HINT_LEN before it must repeat it; an
unconstrained block (which may push input to the front) clears the promise.
"""

from __future__ import annotations

import pytest

from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
from pyzkvm.executor import execute
from pyzkvm.executor.sp1 import Sp1Abi
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, setup
from tests.machine.machine_helpers import forced_proof_rejected, proof_verifies
from tests.rvasm import DATA_BASE, asm, flatten, program, syscall

HINT_LEN, HINT_READ, WRITE, ENTER, EXIT = 0xF0, 0xF1, 0x02, 0x03, 0x04
#: s0 = HINT_LEN(); HINT_READ(buf, 4); HALT(s0): every input either exits 4 or faults
ASK_THEN_READ_4 = flatten([syscall(HINT_LEN), asm.addi(8, 5, 0), syscall(HINT_READ, DATA_BASE, 4),
                           asm.addi(10, 8, 0), asm.li(5, 0), asm.ecall()])


def tables_of(code, inputs, answer=None, monkeypatch=None):
    """The machine's tables of ``code``'s run on ``inputs``; with ``answer``, of a run whose
    HINT_LENs all answer it (a lying prover's executor)."""
    prog = program(code, data=bytes(64))
    if answer is not None:
        handle = Sp1Abi.handle_ecall

        def lying(self):
            m = self.m
            if m.reg(5) != HINT_LEN:
                return handle(self)
            self.io.syscalls["HINT_LEN"] += 1
            m.finish_ecall(rs1=5, rs2=10, rd=5, rd_val=answer, next_pc=m.pc + 4, rs1_val=HINT_LEN,
                           rs2_val=m.reg(10))
            return False
        monkeypatch.setattr(Sp1Abi, "handle_ecall", lying)
    execution = execute(prog, inputs, capture_trace=True)
    chips = build_chips(prog)
    return chips, generate_tables(chips, execution), execution


def test_the_honest_answer_proves():
    chips, tables, execution = tables_of(ASK_THEN_READ_4, [b"abcd"])
    assert execution.exit_code == 4
    check_machine(chips, tables)
    proof_verifies(setup(INSECURE_FAST_FOR_TESTS, chips.airs), chips, tables)


@pytest.mark.parametrize("answer", [9, 0xFFFFFFFF])
def test_an_answer_other_than_the_length_read_is_rejected(answer, monkeypatch):
    chips, bad, execution = tables_of(ASK_THEN_READ_4, [b"abcd"], answer, monkeypatch)
    assert execution.exit_code == answer  # the claim no input gives
    with pytest.raises(ConstraintNotSatisfied, match="HINT_READ reads the promised length"):
        check_machine(chips, bad)
    forced_proof_rejected(setup(INSECURE_FAST_FOR_TESTS, chips.airs), chips, bad, VerificationError)


def test_two_answers_before_one_read_must_agree(monkeypatch):
    """A second HINT_LEN before the read gives the same length (the front element is the same)."""
    code = flatten([syscall(HINT_LEN), asm.addi(8, 5, 0), syscall(HINT_LEN), asm.add(8, 8, 5),
                    asm.addi(10, 8, 0), asm.li(5, 0), asm.ecall()])  # HALT(len + len), no read
    chips, tables, execution = tables_of(code, [b"abc"])
    assert execution.exit_code == 6
    check_machine(chips, tables)
    def two_answers(self):  # 3, then 5 (per run: execute may run the guest twice)
        m = self.m
        if m.reg(5) != HINT_LEN:
            return handle(self)
        self.asked = getattr(self, "asked", 0) + 1
        m.finish_ecall(rs1=5, rs2=10, rd=5, rd_val=3 if self.asked == 1 else 5, next_pc=m.pc + 4, rs1_val=HINT_LEN,
                       rs2_val=m.reg(10))
        return False
    handle = Sp1Abi.handle_ecall
    monkeypatch.setattr(Sp1Abi, "handle_ecall", two_answers)
    prog = program(code, data=bytes(64))
    bad = generate_tables(chips, execute(prog, [b"abc"], capture_trace=True))
    with pytest.raises(ConstraintNotSatisfied, match="HINT_LEN gives the promised length"):
        check_machine(chips, bad)


def test_with_no_read_after_it_any_one_answer_proves(monkeypatch):
    """No HINT_READ follows: the answer is the length of an element never read, or 0xFFFFFFFF
    (no input left) — an input exists for each, so each proves."""
    code = flatten([syscall(HINT_LEN), asm.addi(10, 5, 0), asm.li(5, 0), asm.ecall()])
    for answer in (7, 0xFFFFFFFF):
        chips, tables, execution = tables_of(code, [], answer, monkeypatch)
        assert execution.exit_code == answer
        check_machine(chips, tables)


def test_an_unconstrained_block_clears_the_promise():
    """HINT_LEN sees the 4-byte input; a block then pushes a 2-byte hint to the front (fd 4),
    which HINT_READ reads: SP1's executor runs it so, and the proof must follow."""
    block = flatten([asm.li(6, 0x4142), asm.sw(6, 1, 32), syscall(WRITE, 4, DATA_BASE + 32, 2), syscall(EXIT)])
    code = flatten([asm.li(1, DATA_BASE), syscall(HINT_LEN), asm.addi(8, 5, 0),
                    syscall(ENTER), asm.beq(5, 0, 4 * (len(block) + 1)), block,
                    syscall(HINT_LEN), asm.add(8, 8, 5), syscall(HINT_READ, DATA_BASE, 2),
                    asm.addi(10, 8, 0), asm.li(5, 0), asm.ecall()])  # HALT(4 + 2)
    chips, tables, execution = tables_of(code, [b"abcd"])
    assert execution.exit_code == 6
    check_machine(chips, tables)
    proof_verifies(setup(INSECURE_FAST_FOR_TESTS, chips.airs), chips, tables)


def test_the_promise_crosses_segments(monkeypatch):
    """HINT_LEN in the first segment, HINT_READ in the second: the memory argument carries the
    promise over the boundary, so a lie is caught there too (the honest run proves)."""
    from pyzkvm.backends.stark import build_statements
    from pyzkvm.stark import joint

    loop = flatten([asm.li(9, 40), asm.addi(9, 9, -1), asm.bne(9, 0, -4)])  # 81 cycles between them
    code = flatten([syscall(HINT_LEN), asm.addi(8, 5, 0), loop, syscall(HINT_READ, DATA_BASE, 4),
                    asm.addi(10, 8, 0), asm.li(5, 0), asm.ecall()])
    prog = program(code, data=bytes(64))
    run = build_statements(prog, [b"abcd"], segment_cycles=64)
    assert len(run.statements) == 2
    pk = setup(INSECURE_FAST_FOR_TESTS, run.chips.airs)
    proofs = joint.prove(pk, run.statements, run.public_data)
    joint.verify(pk.verifying_key, [p.to_bytes() for p in proofs], [pv for _t, pv in run.statements], run.public_data)
    tables_of(code, [b"abcd"], 9, monkeypatch)  # (patches the executor's HINT_LEN to answer 9)
    run = build_statements(prog, [b"abcd"], segment_cycles=64)
    with pytest.raises(ConstraintNotSatisfied, match="HINT_READ reads the promised length"):
        joint.prove(pk, run.statements, run.public_data)
    proofs = joint.prove(pk, run.statements, run.public_data, check_constraints_first=False)
    with pytest.raises(VerificationError):
        joint.verify(pk.verifying_key, [p.to_bytes() for p in proofs], [pv for _t, pv in run.statements],
                     run.public_data)
