"""The hot loop: run RV32IM instructions in numba until the host is needed.

``run_until_host`` executes one instruction per cycle from ``pc`` and returns to Python only
at an ECALL (the syscall layer handles it), at a fault, at the cycle limit, or when a buffer
(trace rows, the unconstrained-mode undo log) is full and must grow. It never allocates.

The fetch model of both ABI profiles (``fixed_code``): instructions come from the program as
decoded at load time, as SP1's executor fetches them and as the proof's program table holds
them: a store into code changes memory (a load sees it) but not what runs, and a pc outside the
code range returns ST_PROGRAM_END (the profile decides: SP1 ends the run there, as it stops when
pc leaves ``program.instructions``; the risc0 profile faults). Without ``fixed_code`` (a Machine
run without an ABI, as the unicorn tests do) instructions come from memory: pre-decoded in the
code range, re-decoded when a store hits it, decoded at fetch outside it (RISC Zero's own model;
RV32IM without Zifencei allows both).

Machine state, all owned by Python and mutated in place:

    regs   int64[32]     x0..x31 as unsigned values in [0, 2^32); x0 is forced back to 0
    mem    uint32[2^29 - 2^25]  word-addressed memory: the word at address A is mem[A >> 2]
    packed, imm          the pre-decoded code range (see decode.py)
    code_words uint32[n] the code range's words at load time (the trace's insn with fixed_code)
    counts int64[N_OPS]  instructions executed per op id (the report's instruction counts)
    tr     uint32[13, cap]  trace columns, filled when ``capture`` (column c of row i is tr[c, i];
                         the rows of the 2-D buffer are padded apart so the 13 write streams
                         do not collide in the same cache sets)
    undo   int64[2, cap]    (word index, old value) of every store while ``undo_on``
    dirty  uint8[2^29 / 2^10]  dirty[P] = 1 once a store hit 4 KiB page P (word index >> 10):
                         segmented runs digest only the image's and the dirty pages

Registers hold unsigned 32-bit values in int64 so numba never mixes signed and unsigned
types; ``signed(v) = v - 2^32·bit31(v)``.
"""

from __future__ import annotations

import numpy as np
from ..lazy_njit import njit

from .._jit import inner

from ..isa import OPS
from ..program import MEM_HI, MEM_LO
from .decode import decode_word, pack

M32 = 0xFFFFFFFF

# Why run_until_host returned.
ST_ECALL = 1
ST_CYCLE_LIMIT = 2
ST_TRACE_FULL = 3
ST_UNDO_FULL = 4
ST_PROGRAM_END = 5
F_ILLEGAL = 10
F_EBREAK = 11
F_FETCH_RANGE = 12
F_LOAD_RANGE = 13
F_STORE_RANGE = 14
F_LOAD_MISALIGNED = 15
F_STORE_MISALIGNED = 16
F_JUMP_MISALIGNED = 17

# Trace row columns (the order of Trace.columns).
TRACE_COLUMNS = (
    "clk", "pc", "next_pc", "insn", "rs1", "rs2", "rd",
    "rs1_val", "rs2_val", "rd_val", "mem_addr", "mem_before", "mem_after",
)  # fmt: skip
C_CLK, C_PC, C_NEXT_PC, C_INSN, C_RS1, C_RS2, C_RD = 0, 1, 2, 3, 4, 5, 6
C_RS1_VAL, C_RS2_VAL, C_RD_VAL, C_MEM_ADDR, C_MEM_BEFORE, C_MEM_AFTER = 7, 8, 9, 10, 11, 12

(LUI, AUIPC, JAL, JALR, BEQ, BNE, BLT, BGE, BLTU, BGEU, LB, LH, LW, LBU, LHU, SB, SH, SW,
 ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI, ADD, SUB, SLL, SLT, SLTU, XOR, SRL,
 SRA, OR, AND, FENCE, ECALL, EBREAK, MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM,
 REMU) = range(48)  # fmt: skip
assert OPS["remu"] == REMU and OPS["sw"] == SW and OPS["fence"] == FENCE


@inner  # not inline="always": LLVM inlines it anyway, numba's inlining costs compile time
def signed(v):
    return v - ((v & 0x80000000) << 1)


@njit(cache=True, nogil=True)
def run_until_host(regs, mem, packed, imm, code_lo, pc, cycle, max_cycles, counts,
                   capture, tr, tr_len, undo_on, undo, undo_len, dirty, fixed_code, code_words):  # fmt: skip
    """Execute from ``pc`` until an ECALL, a fault, the cycle limit or a full buffer.

    Returns (status, pc, cycle, tr_len, undo_len, aux): ``pc``/``cycle`` of the instruction
    that stopped the loop (not executed yet), ``aux`` the faulting address for faults.
    """
    n_code = packed.shape[0]
    tr_cap = tr.shape[1]
    undo_cap = undo.shape[1]
    code_lo_idx = code_lo >> 2
    status = 0
    aux = 0
    while True:
        if cycle >= max_cycles:
            status = ST_CYCLE_LIMIT
            break
        # ---- fetch and decode (pre-decoded inside the code range) ----
        k = (pc - code_lo) >> 2
        if pc >= code_lo and k < n_code:
            p = packed[k]
            im = imm[k]
        else:
            if fixed_code:  # SP1: a pc outside the program ends the run
                status = ST_PROGRAM_END
                break
            if pc < MEM_LO or pc >= MEM_HI:
                status = F_FETCH_RANGE
                aux = pc
                break
            d_op, d_rd, d_rs1, d_rs2, im = decode_word(np.int64(mem[pc >> 2]))
            p = pack(d_op, d_rd, d_rs1, d_rs2)
        op = p & 0xFF
        rd = (p >> 8) & 0x1F
        rs1 = (p >> 16) & 0x1F
        rs2 = (p >> 24) & 0x1F
        a = regs[rs1]
        b = regs[rs2]
        if capture and tr_len >= tr_cap:
            status = ST_TRACE_FULL
            break
        next_pc = pc + 4
        val = np.int64(0)
        maddr = np.int64(0)
        mbefore = np.int64(0)
        mafter = np.int64(0)

        # ---- execute ----
        if op == ADDI:
            val = (a + im) & M32
        elif op == ADD:
            val = (a + b) & M32
        elif op == LW or op == LB or op == LH or op == LBU or op == LHU:
            addr = (a + im) & M32
            if addr < MEM_LO or addr >= MEM_HI:
                status = F_LOAD_RANGE
                aux = addr
                break
            if (op == LW and (addr & 3) != 0) or ((op == LH or op == LHU) and (addr & 1) != 0):
                status = F_LOAD_MISALIGNED
                aux = addr
                break
            word = np.int64(mem[addr >> 2])
            maddr = addr & ~3
            mbefore = word
            mafter = word
            sh = (addr & 3) * 8
            if op == LW:
                val = word
            elif op == LBU:
                val = (word >> sh) & 0xFF
            elif op == LHU:
                val = (word >> sh) & 0xFFFF
            elif op == LB:
                v8 = (word >> sh) & 0xFF
                val = (v8 - ((v8 & 0x80) << 1)) & M32
            else:  # LH
                v16 = (word >> sh) & 0xFFFF
                val = (v16 - ((v16 & 0x8000) << 1)) & M32
        elif op == SW or op == SB or op == SH:
            addr = (a + im) & M32
            if addr < MEM_LO or addr >= MEM_HI:
                status = F_STORE_RANGE
                aux = addr
                break
            if (op == SW and (addr & 3) != 0) or (op == SH and (addr & 1) != 0):
                status = F_STORE_MISALIGNED
                aux = addr
                break
            widx = addr >> 2
            word = np.int64(mem[widx])
            sh = (addr & 3) * 8
            if op == SW:
                new = b
            elif op == SB:
                new = (word & ~(np.int64(0xFF) << sh)) | ((b & 0xFF) << sh)
            else:
                new = (word & ~(np.int64(0xFFFF) << sh)) | ((b & 0xFFFF) << sh)
            if undo_on:
                if undo_len >= undo_cap:
                    status = ST_UNDO_FULL
                    break
                undo[0, undo_len] = widx
                undo[1, undo_len] = word
                undo_len += 1
            mem[widx] = new
            dirty[widx >> 10] = 1  # page of 1024 words
            kk = widx - code_lo_idx
            if kk >= 0 and kk < n_code and not fixed_code:  # self-modifying code: re-decode the word
                d_op, d_rd, d_rs1, d_rs2, d_im = decode_word(new)
                packed[kk] = pack(d_op, d_rd, d_rs1, d_rs2)
                imm[kk] = d_im
            maddr = addr & ~3
            mbefore = word
            mafter = new
        elif op >= BEQ and op <= BGEU:
            if op == BEQ:
                taken = a == b
            elif op == BNE:
                taken = a != b
            elif op == BLT:
                taken = signed(a) < signed(b)
            elif op == BGE:
                taken = signed(a) >= signed(b)
            elif op == BLTU:
                taken = a < b
            else:
                taken = a >= b
            if taken:
                next_pc = (pc + im) & M32
                if next_pc & 3:
                    status = F_JUMP_MISALIGNED
                    aux = next_pc
                    break
        elif op == JAL:
            next_pc = (pc + im) & M32
            if next_pc & 3:
                status = F_JUMP_MISALIGNED
                aux = next_pc
                break
            val = (pc + 4) & M32
        elif op == JALR:
            next_pc = (a + im) & 0xFFFFFFFE
            if next_pc & 3:
                status = F_JUMP_MISALIGNED
                aux = next_pc
                break
            val = (pc + 4) & M32
        elif op == LUI:
            val = im & M32
        elif op == AUIPC:
            val = (pc + im) & M32
        elif op == SLTI:
            val = np.int64(signed(a) < im)
        elif op == SLTIU:
            val = np.int64(a < (im & M32))
        elif op == XORI:
            val = (a ^ im) & M32
        elif op == ORI:
            val = (a | im) & M32
        elif op == ANDI:
            val = (a & im) & M32
        elif op == SLLI:
            val = (a << im) & M32
        elif op == SRLI:
            val = a >> im
        elif op == SRAI:
            val = (signed(a) >> im) & M32
        elif op == SUB:
            val = (a - b) & M32
        elif op == SLL:
            val = (a << (b & 31)) & M32
        elif op == SLT:
            val = np.int64(signed(a) < signed(b))
        elif op == SLTU:
            val = np.int64(a < b)
        elif op == XOR:
            val = a ^ b
        elif op == SRL:
            val = a >> (b & 31)
        elif op == SRA:
            val = (signed(a) >> (b & 31)) & M32
        elif op == OR:
            val = a | b
        elif op == AND:
            val = a & b
        elif op == MUL:
            val = (a * b) & M32  # int64 wraps; the low 32 bits are exact
        elif op == MULH:
            val = ((signed(a) * signed(b)) >> 32) & M32
        elif op == MULHSU:
            val = ((signed(a) * b) >> 32) & M32  # |product| < 2^63: fits int64
        elif op == MULHU:
            val = np.int64((np.uint64(a) * np.uint64(b)) >> np.uint64(32))
        elif op == DIV or op == REM:
            sa = signed(a)
            sb = signed(b)
            if sb == 0:
                val = M32 if op == DIV else a  # x/0 = -1, x%0 = x
            else:
                # truncating division; MIN/-1 overflows to MIN and MIN%-1 = 0 after masking
                q = abs(sa) // abs(sb)
                r = abs(sa) - q * abs(sb)
                if (sa < 0) != (sb < 0):
                    q = -q
                if sa < 0:
                    r = -r
                val = (q if op == DIV else r) & M32
        elif op == DIVU:
            val = M32 if b == 0 else a // b
        elif op == REMU:
            val = a if b == 0 else a % b
        elif op == FENCE:
            pass
        elif op == ECALL:
            status = ST_ECALL
            break
        elif op == EBREAK:
            status = F_EBREAK
            break
        else:
            status = F_ILLEGAL
            break

        regs[rd] = val
        regs[0] = 0
        counts[op] += 1
        if capture:
            tr[C_CLK, tr_len] = cycle
            tr[C_PC, tr_len] = pc
            tr[C_NEXT_PC, tr_len] = next_pc
            tr[C_INSN, tr_len] = code_words[k] if fixed_code else mem[pc >> 2]
            tr[C_RS1, tr_len] = rs1
            tr[C_RS2, tr_len] = rs2
            tr[C_RD, tr_len] = rd
            tr[C_RS1_VAL, tr_len] = a
            tr[C_RS2_VAL, tr_len] = b
            tr[C_RD_VAL, tr_len] = val if rd != 0 else 0
            tr[C_MEM_ADDR, tr_len] = maddr
            tr[C_MEM_BEFORE, tr_len] = mbefore
            tr[C_MEM_AFTER, tr_len] = mafter
            tr_len += 1
        cycle += 1
        pc = next_pc
    return status, pc, cycle, tr_len, undo_len, aux
