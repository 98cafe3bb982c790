"""Honest runs for the under-constraint detector (pyzkvm/machine/undercheck.py): small programs
that together exercise every chip — every ALU operation, loads/stores, MUL/DIV, HINT_LEN,
HINT_READ (a length that is not a multiple of 4), journal WRITE, stdout WRITE, COMMIT,
VERIFY_SP1_PROOF, an unconstrained block and the RISC Zero profile — plus (deep run) prebuilt guests with small inputs."""

from __future__ import annotations

import hashlib

from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.machine.undercheck import sample
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall


def _alu_code():
    ops = [asm.add, asm.sub, asm.xor, asm.or_, asm.and_, asm.slt, asm.sltu, asm.sll,
           asm.srl, asm.sra, asm.mul, asm.mulh, asm.mulhsu, asm.mulhu, asm.div, asm.divu, asm.rem, asm.remu]
    code = [asm.li(1, 0x80000123), asm.li(2, 0x00001F05), asm.li(3, DATA_BASE)]
    code += [op(4 + i % 20, 1, 2) for i, op in enumerate(ops)]
    code += [asm.div(5, 1, 0), asm.rem(6, 1, 0), asm.andi(7, 1, 0xF0), asm.ori(8, 2, 3), asm.slti(9, 1, -1),
             asm.srai(10, 1, 3), asm.lui(11, 0x12345)]
    code += [asm.sw(1, 3, 0), asm.sh(2, 3, 6), asm.sb(2, 3, 9), asm.lw(12, 3, 0), asm.lh(13, 3, 2), asm.lhu(14, 3, 6),
             asm.lb(15, 3, 3), asm.lbu(16, 3, 9), asm.beq(1, 1, 8), asm.addi(17, 0, 1), asm.bne(1, 2, 8),
             asm.addi(18, 0, 1), asm.blt(1, 2, 8), asm.addi(19, 0, 1)]
    return code + [halt(3)]


def _io_code():
    return [syscall(0xF0), asm.addi(13, 5, 0),                                       # HINT_LEN
            asm.li(10, DATA_BASE + 64), asm.li(11, 5), asm.li(5, 0xF1), asm.ecall(),  # HINT_READ 5 bytes
            syscall(0x02, 3, DATA_BASE + 2, 9),                                      # journal WRITE
            [syscall(0x10, i, 0x01020304 * (i + 1)) for i in range(8)],               # COMMIT
            syscall(0x02, 1, DATA_BASE + 1, 3),                                      # stdout WRITE
            syscall(0x02, 1, 0x77FFFFF8, 8),                                         # stdout at the end of memory (last)
            halt(0)]


IMG, DIG = hashlib.sha256(b"image").digest(), hashlib.sha256(b"journal").digest()


def _verify_code():
    return [syscall(0x1B, DATA_BASE, DATA_BASE + 32), syscall(0x02, 13, DATA_BASE + 64, 4), halt(0)]


def _unconstrained_code():
    """ENTER, a block that stores and writes a hint, EXIT; then the hint read back (issue 16 §3)."""
    block = flatten([asm.li(6, 7), asm.sw(6, 1, 0), syscall(0x02, 4, DATA_BASE, 4), syscall(0x04)])
    return [asm.li(1, DATA_BASE), syscall(0x03), asm.beq(5, 0, 4 * (len(block) + 1)), block,
            syscall(0xF0), syscall(0xF1, DATA_BASE + 32, 4), syscall(0x04), halt(0)]


def _risc0_program():
    """The RISC Zero profile: SYS_READ, SYS_WRITE, HALT with the output digest (issue 16 §5)."""
    from tests.machine.test_machine_risc0 import CODE, DATA

    return program(flatten(CODE), data=DATA, abi="risc0")


def _run(name, prog, inputs=()):
    execution = execute(prog, inputs, capture_trace=True)
    chips = build_chips(prog)
    tables = generate_tables(chips, execution)
    return name, chips, tables


def honest_runs(deep: bool = False, check: bool = False) -> list:
    """(name, chips, tables) of every honest run (check: run the full debug check on each)."""
    runs = [_run("alu+mem", program(flatten(_alu_code()), data=bytes(64))),
            _run("io", program(flatten(_io_code()), data=b"journal bytes!!!" + bytes(128)), [b"12345"]),
            _run("verify", program(flatten(_verify_code()), data=IMG + DIG + b"agg!")),
            _run("unconstrained", program(flatten(_unconstrained_code()), data=bytes(64))),
            _run("risc0", _risc0_program(), [b"abcdefgh"])]
    if deep:
        from pyzkvm.inputs import u32
        from pyzkvm.program import Program

        runs.append(_run("fibonacci(5)", Program.from_elf("guests/bin/fibonacci.elf"), [u32(5)]))
    if check:
        for _, chips, tables in runs:
            check_machine(chips, tables)
    return runs


#: the field/curve chips the CI scan samples (field_program.py): one curve op and one Fp op
FIELD_CHIPS = ("secp256k1 double", "bn254 fp sub")


def field_run(check: bool = False):
    """(name, chips, tables): secp256k1 DOUBLE (G) and BN254 FP_SUB on an unreduced x ≥ p (its
    reducing MUL row, then the SUB), each called once: 15 and 5 rows, then padding rows."""
    from tests.machine.test_machine_fp_ops import FIELDS
    from tests.machine.test_machine_weierstrass import CURVES, point_bytes

    _, _, _, G, n, _, double = CURVES["secp256k1"]
    q, m, fp_add = FIELDS["bn254"]
    x, y = 2**256 - 1 - 12345, 67890
    data = point_bytes(G, n) + x.to_bytes(m, "little") + y.to_bytes(m, "little")
    code = [syscall(double, DATA_BASE, 0), syscall(fp_add + 1, DATA_BASE + 2 * n, DATA_BASE + 2 * n + m), halt(0)]
    run = _run("field", program(flatten(code), data=data))
    if check:
        check_machine(*run[1:])
    return run


#: a segment of the run that ``_segments_code`` cuts: every part is exactly this many cycles
PART_CYCLES = 48


def _segments_code(parts: int = 2):
    """``parts`` parts of PART_CYCLES cycles each (so a run cut every PART_CYCLES cycles has one
    per segment): each writes two journal bytes and calls VERIFY_SP1_PROOF (jpos and apos move in
    every segment: the segment counts bus carries non-zero counts across every cut); HINT_LEN
    ends the first, HINT_READ starts the second; x6 += 1 fills the rest, the last part HALTs. The
    first segment's syscall table (3 calls, 4 rows) ends on a padding row that sends the counts."""
    code = []
    for k in range(parts):
        part = flatten([[syscall(0xF1, DATA_BASE + 128, 5)] if k == 1 else [],     # HINT_READ 5 bytes
                        syscall(0x02, 3, DATA_BASE + 2 * k, 2),                   # journal WRITE "Ak"
                        syscall(0x1B, DATA_BASE + 64, DATA_BASE + 96),            # VERIFY_SP1_PROOF
                        [syscall(0xF0)] if k == 0 else []])                       # HINT_LEN
        tail = halt(0) if k == parts - 1 else []
        assert len(part) + len(tail) <= PART_CYCLES
        code += part + [asm.addi(6, 6, 1)] * (PART_CYCLES - len(part) - len(tail)) + tail
    return program(code, data=b"A0A1A2A3" + bytes(56) + IMG + DIG + bytes(64))


def segmented_run(parts: int = 2, check: bool = False):
    """(name, chips, every segment's tables) of ``_segments_code(parts)`` cut into ``parts``
    segments (check: the debug check of the segments together, as the verifier checks them)."""
    from pyzkvm.machine.undercheck import segment_tables

    prog = _segments_code(parts)
    chips = build_chips(prog)
    segments = segment_tables(chips, prog, [b"hint!"], PART_CYCLES)
    assert len(segments) == parts and segments[-1].statement.halts
    if check:
        from pyzkvm.machine.evaluate import compiled_air
        from pyzkvm.machine.public_data import MachinePublicData
        from pyzkvm.stark.debug import check_statement

        final = segments[-1].statement
        statements = [(t.in_order(chips), t.statement.with_outcome(final).public_values()) for t in segments]
        check_statement([compiled_air(a) for a in chips.airs],
                        [a.preprocessed_trace() if a.preprocessed_width else None for a in chips.airs],
                        statements, MachinePublicData(b"".join(t.journal for t in segments),
                                                      tuple(a for t in segments for a in t.assumptions)))
    return f"io, {parts} segments", chips, segments


def samples(deep: bool = False, check: bool = False) -> list:
    return [sample(name, chips, tables) for name, chips, tables in honest_runs(deep, check)]
