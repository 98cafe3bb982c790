"""The program chip: the guest's instructions, decoded once at setup, as preprocessed columns.

Instruction fetch is a lookup: each executed CPU row sends (pc, decoded fields) on the
``program`` bus and this table receives it with multiplicity ``mult`` = how often that pc ran.
Because the columns are preprocessed (committed in the verifying key, hence in the image ID),
a prover cannot execute an instruction the program does not contain, nor change a decoded
field (register index, immediate, operation, class flag) of one that it does.

Preprocessed columns (one row per instruction word of an executable segment):
    pc                  the word's address
    alu_op              the operation the ALU chip must perform (I-forms use their R-form id);
                        ecall: the ABI profile (statement.PROFILE_IDS: 0 sp1, 1 risc0)
    rd, rs1, rs2        register indices as the executor reads/writes them (ecall: t0, a0 → t0;
                        risc0: t0, a0 → none)
    imm0..imm3          the sign-extended immediate as 4 little-endian bytes — except for LUI and
                        AUIPC, where it is the value written to rd (imm, resp. pc + imm mod 2^32:
                        both are known at setup, so the CPU just copies them). FENCE is a
                        "static" instruction with rd = x0 (a no-op: nothing written, pc + 4)
    imm_f               the immediate as a field element (imm mod p; negative → p − |imm|)
    uses_imm            the ALU's second operand is the immediate (else rs2's value)
    f_alu f_static f_jal f_jalr f_branch f_load f_store f_ecall
                        the instruction's class (exactly one is 1; all 0 = not provable yet)
    writes_rd           the instruction writes rd and rd ≠ 0 (x0 is never written)
    is_entry            1 on the row whose pc is the ELF entry point
Main column: mult.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedProgram
from ..executor.decode import decode_words
from ..isa import OPS
from ..program import Program
from ..stark.field import P
from . import buses
from .chip import Chip
from .layout import Layout
from .statement import PROFILE_IDS

PROG = Layout("pc alu_op rd rs1 rs2 imm:4 imm_f uses_imm f_alu f_static f_jal f_jalr f_branch f_load f_store f_ecall writes_rd is_entry")
PROG_MAIN = Layout("mult")

#: The fields the CPU looks up, in bus order (PROGRAM bus tuple).
FETCH_FIELDS = ("pc", "alu_op", "rd", "rs1", "rs2", "imm0", "imm1", "imm2", "imm3", "imm_f", "uses_imm",
                "f_alu", "f_static", "f_jal", "f_jalr", "f_branch", "f_load", "f_store", "f_ecall", "writes_rd")
CLASS_FLAGS = ("f_alu", "f_static", "f_jal", "f_jalr", "f_branch", "f_load", "f_store", "f_ecall")
#: classes that write rd (when rd ≠ 0); branches and stores never do
WRITING_CLASSES = ("f_alu", "f_static", "f_jal", "f_jalr", "f_load", "f_ecall")

#: Instructions whose constraints exist so far: mnemonic → (class flag, ALU op, uses_imm).
CONSTRAINED = {
    "add": ("f_alu", "add", 0), "addi": ("f_alu", "add", 1), "sub": ("f_alu", "sub", 0),
    "xor": ("f_alu", "xor", 0), "xori": ("f_alu", "xor", 1),
    "or": ("f_alu", "or", 0), "ori": ("f_alu", "or", 1),
    "and": ("f_alu", "and", 0), "andi": ("f_alu", "and", 1),
    "slt": ("f_alu", "slt", 0), "slti": ("f_alu", "slt", 1), "sltu": ("f_alu", "sltu", 0), "sltiu": ("f_alu", "sltu", 1),
    "beq": ("f_branch", "beq", 0), "bne": ("f_branch", "bne", 0), "blt": ("f_branch", "blt", 0),
    "bge": ("f_branch", "bge", 0), "bltu": ("f_branch", "bltu", 0), "bgeu": ("f_branch", "bgeu", 0),
    "lui": ("f_static", None, 0), "auipc": ("f_static", None, 0), "fence": ("f_static", None, 0),
    "sll": ("f_alu", "sll", 0), "slli": ("f_alu", "sll", 1), "srl": ("f_alu", "srl", 0),
    "srli": ("f_alu", "srl", 1), "sra": ("f_alu", "sra", 0), "srai": ("f_alu", "sra", 1),
    "mul": ("f_alu", "mul", 0), "mulh": ("f_alu", "mulh", 0), "mulhsu": ("f_alu", "mulhsu", 0),
    "mulhu": ("f_alu", "mulhu", 0), "div": ("f_alu", "div", 0), "divu": ("f_alu", "divu", 0),
    "rem": ("f_alu", "rem", 0), "remu": ("f_alu", "remu", 0),
    "lb": ("f_load", "lb", 1), "lh": ("f_load", "lh", 1), "lw": ("f_load", "lw", 1),
    "lbu": ("f_load", "lbu", 1), "lhu": ("f_load", "lhu", 1),
    "sb": ("f_store", "sb", 1), "sh": ("f_store", "sh", 1), "sw": ("f_store", "sw", 1),
    "jal": ("f_jal", None, 0), "jalr": ("f_jalr", None, 1), "ecall": ("f_ecall", None, 0),
}  # fmt: skip

T0, A0 = 5, 10


def pad_height(n: int, minimum: int = 4) -> int:
    """The table height: the next power of two ≥ max(n, minimum)."""
    return max(minimum, 1 << max(0, (int(n) - 1).bit_length()))


def padded(rows):
    """A chip's rows (unpadded) with inactive all-zero rows up to a power-of-two height, as the
    prover's uint32 field elements (every cell is < p): half the bytes of the int64 rows, and
    no copy to convert later (trace generation's evaluations and tables.py take it as it is)."""
    if rows.dtype == np.uint32 and len(rows) == pad_height(len(rows)):
        return rows  # built padded already (alu.AddSubAir: no copy of its largest table)
    out = np.zeros((pad_height(len(rows)), rows.shape[1]), dtype=np.uint32)
    out[: len(rows)] = rows
    return out


def inverse_or_zero(x) -> np.ndarray:
    """x^(−1) mod p for an int array, 0 ↦ 0 (= x^(p−2)): the witness of an "x ≠ 0" flag. The
    values are mostly small (a sum of three bytes: < 766): when the largest is below the
    array's length, each of 0..max is inverted once and the table is read at x (the same
    inverses, fewer of them). One batch inversion (Montgomery's trick, with 0 inverted as 1
    and its result put back to 0), the kernel every prove loads anyway."""
    from ..stark.field import batch_inverse

    x = np.asarray(x, dtype=np.int64) % P
    if not len(x):
        return x
    top = int(x.max())
    values = np.arange(top + 1, dtype=np.int64) if top < len(x) else x  # inv[v] for v = 0..top; x's are inv[x]
    zero = values == 0
    inv = batch_inverse(np.where(zero, 1, values).astype(np.uint32)).astype(np.int64)
    inv[zero] = 0
    return inv[x] if top < len(x) else inv


def to_bytes(values) -> np.ndarray:
    """32-bit values → (n, 4) little-endian byte limbs (uint32)."""
    v = (np.asarray(values, dtype=np.uint64) & 0xFFFFFFFF).astype("<u4")
    return v.view(np.uint8).reshape(-1, 4).astype(np.uint32)  # a little-endian word's bytes, in order


class ProgramTable:
    """The decoded program: one row per word of every executable segment, by address."""

    def __init__(self, program: Program):
        addrs, words = program.image_words()
        exe = np.zeros(len(addrs), dtype=bool)
        for seg in program.segments:
            if seg.flags & 1:  # PF_X
                exe |= (addrs >= (seg.vaddr & ~3)) & (addrs < seg.end)
        self.pcs = addrs[exe].astype(np.int64)
        self.words = words[exe]
        if len(self.pcs) == 0:
            raise UnsupportedProgram("the ELF has no executable segment: nothing to prove")
        if self.pcs.max() >= P - (1 << 21):  # JAL targets pc + imm (|imm| < 2^20) must not wrap mod p
            raise UnsupportedProgram("code above 0x77e00000 cannot be proved: link the guest lower")
        dec = decode_words(self.words)
        op, rd, rs1, rs2, imm = (dec[:, i] for i in range(5))
        n = len(self.pcs)
        cols = np.zeros((n, PROG.width), dtype=np.int64)
        cols[:, PROG.pc] = self.pcs
        cols[:, PROG.rd], cols[:, PROG.rs1], cols[:, PROG.rs2] = rd, rs1, rs2
        cols[:, PROG.imm] = to_bytes(imm & 0xFFFFFFFF)
        cols[:, PROG.imm_f] = imm % P
        for mnemonic, (flag, alu, uses_imm) in CONSTRAINED.items():
            rows = op == OPS[mnemonic]
            cols[rows, getattr(PROG, flag)] = 1
            cols[rows, PROG.uses_imm] = uses_imm
            if alu is not None:
                cols[rows, PROG.alu_op] = OPS[alu]
        auipc = op == OPS["auipc"]  # rd = pc + imm is static: store it in the imm bytes
        cols[auipc, PROG.imm[0]:PROG.imm[3] + 1] = to_bytes((self.pcs[auipc] + imm[auipc]) & 0xFFFFFFFF)
        ecall = op == OPS["ecall"]  # the SP1 ecall row reads t0 (code) and a0, writes t0
        cols[ecall, PROG.rs1], cols[ecall, PROG.rs2], cols[ecall, PROG.rd] = T0, A0, T0
        if program.abi == "risc0":  # a RISC Zero ecall writes no rd (t0 is left as it is)
            cols[ecall, PROG.rd] = 0
        # an ecall's alu_op (unused by the ALU) names the ABI profile: the syscall it makes
        # depends on it (code 3 is SP1's ENTER_UNCONSTRAINED but RISC Zero's SHA), the CPU
        # checks it equals the public PV_PROFILE, and it puts the profile in the image ID
        cols[ecall, PROG.alu_op] = PROFILE_IDS[program.abi]
        cols[:, PROG.writes_rd] = (cols[:, PROG.rd] != 0) & (cols[:, WRITING_IDX].sum(axis=1) == 1)
        entry = self.pcs == program.entry
        if not entry.any():
            raise UnsupportedProgram(f"entry point 0x{program.entry:08x} is not in an executable segment")
        cols[entry, PROG.is_entry] = 1
        self.op = op
        self.columns = cols.astype(np.uint32)

    def rows_of(self, pcs) -> np.ndarray:
        """Row index of each pc (−1 where the pc is not an instruction of the program)."""
        pcs = np.asarray(pcs, dtype=np.int64)
        k = np.searchsorted(self.pcs, pcs)
        k = np.minimum(k, len(self.pcs) - 1)
        return np.where(self.pcs[k] == pcs, k, -1)

    def preprocessed_trace(self) -> np.ndarray:
        out = np.zeros((pad_height(len(self.pcs)), PROG.width), dtype=np.uint32)
        out[: len(self.pcs)] = self.columns
        return out


WRITING_IDX = [getattr(PROG, f) for f in WRITING_CLASSES]


class ProgramAir(Chip):
    """Receives every instruction fetch; its rows are fixed by the program (preprocessed)."""

    name = "program"
    width = PROG_MAIN.width
    preprocessed_width = PROG.width

    def __init__(self, table: ProgramTable | None):
        self.table = table

    @classmethod
    def for_program(cls, program, image):
        return cls(program)

    def preprocessed_trace(self):
        return self.table.preprocessed_trace()

    def generate(self, w):
        """How often each instruction ran: counted from the fetches the CPU sends on the
        ``program`` bus (their first field is the pc)."""
        fields = w.received(buses.PROGRAM, self)
        n = len(self.table.pcs)
        out = np.zeros((pad_height(n), PROG_MAIN.width), dtype=np.int64)
        if fields:
            out[:n, PROG_MAIN.mult] = np.bincount(self.table.rows_of(fields[0]), minlength=n)
        return out

    def constraints(self, b):
        # a row is an instruction the machine can execute iff it has one class flag (a padding
        # row, or a word the AIR does not constrain, has none): the activity selector
        flags = [b.prep(getattr(PROG, f)) for f in CLASS_FLAGS]
        for f, flag in zip(CLASS_FLAGS, flags):
            b.assert_bool(flag, f"{f} is boolean")
        active = b.declare_active(sum(flags))  # at most one flag per row (the verifier builds the table)
        # fetch: Σ_rows mult/(α − fp(pc, fields)) cancels the CPU's sends
        b.receive(buses.PROGRAM, [b.prep(getattr(PROG, f)) for f in FETCH_FIELDS], active * b.main(PROG_MAIN.mult))
        # the run's first row (IS_FIRST: the first segment's, at clock 0) starts at the entry point:
        # the CPU's first row sends (clk, pc) on the segment pc bus, this row answers (0, entry)
        from .statement import PV_IS_FIRST

        b.receive(buses.SEGMENT_PC, [0, b.prep(PROG.pc)], active * b.prep(PROG.is_entry) * b.public(PV_IS_FIRST))
