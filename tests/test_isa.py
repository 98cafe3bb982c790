"""The ISA table, its decoder, the numba decoder, and the disassembler."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from pyzkvm.isa import ILLEGAL, INSTRUCTIONS, decode, disassemble
from pyzkvm.executor.decode import decode_words
from tests.rvasm import asm


def _random_words_of(ins, rng, n):
    """n random words whose identifying bits are those of ``ins``."""
    free = np.uint64(~ins.mask & 0xFFFFFFFF)
    return [int(x) for x in (rng.integers(0, 1 << 32, n, dtype=np.uint64) & free) | np.uint64(ins.match)]


def norm(text: str) -> str:
    """Whitespace removed and every number (hex or decimal) written in decimal."""
    text = re.sub(r"\s+", "", text)
    return re.sub(r"(?<![a-z0-9])(-?)(0x[0-9a-f]+|\d+)", lambda m: str(int(m.group(1) + m.group(2), 0)), text)


def _table_decode(words):
    return np.array([[d.op, d.rd, d.rs1, d.rs2, d.imm] for d in map(decode, words)], dtype=np.int64)


def test_table_has_every_rv32im_instruction_once():
    names = [i.mnemonic for i in INSTRUCTIONS]
    expected = (
        "lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw lbu lhu sb sh sw addi slti sltiu xori "
        "ori andi slli srli srai add sub sll slt sltu xor srl sra or and fence ecall ebreak mul mulh "
        "mulhsu mulhu div divu rem remu"
    ).split()
    assert sorted(names) == sorted(expected)
    assert len(set((i.mask, i.match) for i in INSTRUCTIONS)) == len(INSTRUCTIONS)


def test_no_two_rows_match_the_same_word():
    rng = np.random.default_rng(1)
    for ins in INSTRUCTIONS:
        for w in _random_words_of(ins, rng, 300):
            hits = [j.mnemonic for j in INSTRUCTIONS if int(w) & j.mask == j.match]
            assert hits == [ins.mnemonic]


def test_numba_decoder_agrees_with_table_on_every_row():
    """Random fields around every row's fixed bits: both decoders give the same op and fields."""
    rng = np.random.default_rng(2)
    words = []
    for ins in INSTRUCTIONS:
        words.extend(_random_words_of(ins, rng, 300))
    words = np.array(words, dtype=np.uint32)
    assert np.array_equal(decode_words(words), _table_decode(words))


def test_numba_decoder_agrees_with_table_on_random_words():
    rng = np.random.default_rng(3)
    # random words with a valid-looking opcode field most of the time
    words = rng.integers(0, 1 << 32, 20000, dtype=np.uint64).astype(np.uint32)
    opcodes = np.array([0x37, 0x17, 0x6F, 0x67, 0x63, 0x03, 0x23, 0x13, 0x33, 0x0F, 0x73], dtype=np.uint32)
    words[:15000] = (words[:15000] & ~np.uint32(0x7F)) | rng.choice(opcodes, 15000)
    ours = decode_words(words)
    assert np.array_equal(ours, _table_decode(words))
    assert (ours[:, 0] == ILLEGAL).any() and (ours[:, 0] != ILLEGAL).any()


@pytest.mark.parametrize(
    "word, why",
    [
        (asm.slli(1, 2, 3) | (1 << 25), "SLLI with imm[11:5] != 0 (shamt[5] set)"),
        (asm.srli(1, 2, 3) | (0x10 << 25), "SRLI with a reserved imm[11:5]"),
        (asm.srai(1, 2, 3) | (0x21 << 25), "SRAI with a reserved imm[11:5]"),
        (asm.add(1, 2, 3) | (0x02 << 25), "ADD with funct7 = 2"),
        (asm.sll(1, 2, 3) | (0x20 << 25), "SLL with funct7 = 0x20"),
        (asm.mul(1, 2, 3) | (0x21 << 25), "MUL with funct7 = 0x21"),
        (0x0000100F, "FENCE.I (Zifencei, not RV32IM)"),
        (0x34011073, "CSRRW (Zicsr)"),
        (0x00000073 | (1 << 7), "ECALL with rd != 0"),
        (0x00200073, "URET-like SYSTEM encoding"),
        (asm.lw(1, 2, 0) | (3 << 12), "load funct3 = 3 (LD, RV64)"),
        (asm.sw(1, 2, 0) | (3 << 12), "store funct3 = 3 (SD, RV64)"),
        (asm.beq(1, 2, 8) | (2 << 12), "branch funct3 = 2"),
        (asm.jalr(1, 2, 0) | (1 << 12), "JALR funct3 != 0"),
        (0x00000000, "all zeros"),
        (0xFFFFFFFF, "all ones"),
        (0x00000001, "a compressed (RVC) halfword"),
    ],
)
def test_reserved_encodings_are_illegal(word, why):
    assert decode(word).op == ILLEGAL, why
    assert decode_words(np.array([word], dtype=np.uint32))[0, 0] == ILLEGAL, why


@pytest.mark.parametrize(
    "word, pc, text",
    [
        (asm.addi(10, 10, 1), None, "addi a0, a0, 1"),
        (asm.lw(11, 2, 8), None, "lw a1, 8(sp)"),
        (asm.sw(1, 2, -4), None, "sw ra, -4(sp)"),
        (asm.lui(10, 0x12345), None, "lui a0, 0x12345"),
        (asm.srai(5, 6, 31), None, "srai t0, t1, 31"),
        (asm.mulhsu(28, 29, 30), None, "mulhsu t3, t4, t5"),
        (asm.beq(10, 0, -8), 0x201010, "beq a0, zero, 0x00201008"),
        (asm.jal(1, 0x100), 0x201000, "jal ra, 0x00201100"),
        (asm.jalr(0, 1, 0), None, "jalr zero, 0(ra)"),
        (asm.ecall(), None, "ecall"),
        (0xFFFFFFFF, None, ".word 0xffffffff  # illegal"),
    ],
)
def test_disassemble_examples(word, pc, text):
    assert disassemble(word, pc) == text


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-objdump") is None, reason="GNU objdump not installed")
def test_disassembly_matches_gnu_objdump(tmp_path):
    """GNU objdump (no aliases) is the oracle for every non-control-flow row."""
    rng = np.random.default_rng(4)
    words = []
    for ins in INSTRUCTIONS:
        if ins.fmt in ("B", "J", "F"):
            continue  # objdump prints targets relative to its own base; fence operand syntax differs
        words.extend(_random_words_of(ins, rng, 20))
    blob = tmp_path / "w.bin"
    blob.write_bytes(np.array(words, dtype="<u4").tobytes())
    out = subprocess.run(
        ["riscv64-unknown-elf-objdump", "-D", "-b", "binary", "-m", "riscv:rv32", "-M", "no-aliases", str(blob)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [ln for ln in out.splitlines() if re.match(r"^\s+[0-9a-f]+:\s+[0-9a-f]{8}\s", ln)]
    assert len(lines) == len(words)
    for ln, w in zip(lines, words):
        theirs = ln.split("\t", 2)[2].split("#")[0].strip()
        mine = disassemble(w)
        assert norm(mine) == norm(theirs), f"{w:08x}: {mine!r} vs objdump {theirs!r}"
