"""Forged statements through rows the honest prover never writes (issue 14 §1).

Each attack builds tables that an attacker could commit to — padding rows that are not all
zero, hint bytes the executor never wrote, a bounds check solved modulo p — and shows that

* the debug check names the constraint (or bus) that stops it, and
* a proof forced past the prover's own check does not verify against the forged statement.

Before the fixes each of these verified: a guest that always journals ``2a000000`` got a receipt
for ``39050000``; a guest that reads a one-byte hint got ``07aabbcc``; a stdout WRITE that runs
past the end of guest memory got a receipt "exit 0".
"""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, MemoryOutOfRange, VerificationError
from pyzkvm.executor.machine import Machine
from pyzkvm.executor.sp1 import Sp1Abi
from pyzkvm.machine import check_machine
from pyzkvm.machine.bytes_table import BYTES
from pyzkvm.machine.cpu import MEM_KEY_BASE
from pyzkvm.machine.program_table import to_bytes
from pyzkvm.machine.syscall import JOURNAL_WORDS, KEY_END, SYS
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, setup
from pyzkvm.stark.field import P
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine
from tests.rvasm import DATA_BASE, asm, halt, syscall


def forced_proof_fails(chips, bad):
    """Prove ``bad`` without the prover's own check; the verifier must refuse it."""
    forced_proof_rejected(setup(INSECURE_FAST_FOR_TESTS, chips.airs), chips, bad, VerificationError)


def grow(table: np.ndarray, height: int) -> np.ndarray:
    """The table with all-zero rows appended up to ``height`` (a prover may commit any height)."""
    out = np.zeros((height, table.shape[1]), dtype=table.dtype)
    out[:len(table)] = table
    return out


def move_range_lookups(t, old_pairs, new_pairs):
    """Keep the byte table's range multiplicities equal to the (forged) lookups."""
    col = t.traces["bytes"][:, BYTES.m_range]
    for pairs, step in ((old_pairs, -1), (new_pairs, +1)):
        for x, y in pairs:
            if 0 <= x < 256 and 0 <= y < 256:  # a pair that is not two bytes was never counted
                col[256 * x + y] = (int(col[256 * x + y]) + step) % P


# --- 1. journal forged through padding rows of the journal-word chip --------------------------


def test_padding_rows_of_the_journal_word_chip_cannot_rewrite_the_journal():
    """A padding row (active = 0) with is_first = 1 used to send (position, byte) on the journal
    bus with multiplicity fm_j − 1: fm_j = 0 cancels a real byte, fm_j = 2 adds a forged one."""
    code = [syscall(0x02, 3, DATA_BASE, 4), halt(0)]  # journals the 4 bytes 2a 00 00 00, no COMMIT
    chips, tables, _ = run_machine(code, data=bytes.fromhex("2a000000") + bytes(12))
    assert tables.journal == bytes.fromhex("2a000000")

    def edit(t):
        jw = grow(t.traces["journal words"], 8)
        J = JOURNAL_WORDS
        rows = [(0, 0, 0x2A), (2, 0, 0x39), (0, 1, 0x00), (2, 1, 0x05)]  # (fm_j, j, byte): −1, +1, −1, +1
        for r, (fm_j, j, byte) in zip(range(4, 8), rows):
            jw[r, J.is_first] = 1                      # a chain start on an inactive row
            jw[r, J.key] = jw[r, J.last_key] = MEM_KEY_BASE  # position jbase + 4·(key − 32) + j = j
            jw[r, J.fm] = 1
            jw[r, J.fm[j]] = fm_j
            jw[r, J.w[j]] = byte
            u = [(int(fm) - 1) % P for fm in jw[r, J.fm]]   # u_j = active − is_first + is_first·fm_j
            jw[r, J.u] = u
            jw[r, J.e] = u                             # e_j = u_j (is_last = 0)
        t.traces["journal words"] = jw
        t.journal = bytes.fromhex("39050000")

    bad = forged(tables, edit)
    with pytest.raises(ConstraintNotSatisfied, match="journal words"):
        check_machine(chips, bad)
    forced_proof_fails(chips, bad)


# --- 2. HINT_READ's padding bytes ------------------------------------------------------------


def test_hint_read_padding_bytes_are_zero(monkeypatch):
    """The executor zero-pads a hint's last word; a prover that writes 07 aa bb cc for the
    one-byte hint 07 (and journals the word) must not get a receipt."""
    code = [asm.li(10, DATA_BASE), asm.li(11, 1), asm.li(5, 0xF1), asm.ecall(),   # HINT_READ 1 byte
            syscall(0x02, 3, DATA_BASE, 4), halt(0)]                                 # journal the word
    _, honest, _ = run_machine(code, inputs=[b"\x07"], data=bytes(16))
    assert honest.journal == bytes.fromhex("07000000")

    def hint_read_with_garbage(self, ptr):  # a lying executor: the pad bytes are aa bb cc
        self._arg(11)  # a1, read as the real handler does
        element = self.io.inputs.popleft()
        self.m.write_words(ptr, np.frombuffer(element + b"\xaa\xbb\xcc", dtype="<u4"), "HINT_READ destination")
    monkeypatch.setattr(Sp1Abi, "_hint_read", hint_read_with_garbage)
    chips, bad, _ = run_machine(code, inputs=[b"\x07"], data=bytes(16))
    assert bad.journal == bytes.fromhex("07aabbcc")
    with pytest.raises(ConstraintNotSatisfied, match="hint"):
        check_machine(chips, bad)
    forced_proof_fails(chips, bad)


# --- 3. a WRITE bounds check solved modulo p ---------------------------------------------------


def test_write_bounds_check_cannot_wrap_modulo_p(monkeypatch):
    """WRITE(fd 1, 0x77FFFFF8, 16) faults (its buffer ends past 0x78000000). Its last byte
    ptr + len − 1 = 0x78000007 ≡ 6 (mod p): a prover that solves 4·lw + lo = 6 (lw = 1, lo = 2)
    instead of the integer equation used to pass every bounds check. Now the span from the first
    to the last word must be three bytes, which a wrapped lw (≈ 2^29 words away) cannot give."""
    ptr, length = 0x77FFFFF8, 16
    code = [syscall(0x02, 1, ptr, length), halt(0)]
    with pytest.raises(MemoryOutOfRange):
        run_machine(code, data=bytes(16))
    check = Machine.check_range

    def lenient(self, addr, n, *, align=1, what="buffer"):
        if what != "WRITE buffer":
            check(self, addr, n, align=align, what=what)
    monkeypatch.setattr(Machine, "check_range", lenient)
    chips, tables, _ = run_machine(code, data=bytes(16))

    def edit(t):
        sys = t.traces["syscall"]
        row = int(np.flatnonzero(sys[:, SYS.is_write] == 1)[0])
        wrapped = (ptr + length - 1) % P                 # 6
        lw, lo = wrapped >> 2, wrapped & 3
        old_room = [int(x) for x in sys[row, SYS.room]]
        room = [int(x) for x in to_bytes(np.array([KEY_END - (MEM_KEY_BASE + lw) - 1]))[0]]
        sys[row, SYS.lw] = lw
        sys[row, SYS.lh] = 0
        sys[row, SYS.lh[lo]] = 1
        sys[row, SYS.room] = room
        sys[row, SYS.span] = [(lw - (ptr >> 2)) % P, 0, 0]  # lw − ⌊ptr/4⌋ ≡ −(p − 9)/4: not three bytes
        move_range_lookups(t, [(old_room[0], old_room[1]), (old_room[2], old_room[3]), (8 * old_room[3], 0)],
                           [(room[0], room[1]), (room[2], room[3]), (8 * room[3], 0)])

    bad = forged(tables, edit)
    with pytest.raises(ConstraintNotSatisfied, match="bus 'byte'"):  # the span's range check
        check_machine(chips, bad)
    forced_proof_fails(chips, bad)


@pytest.mark.parametrize("ptr, length", [(0x77FFFFF0, 16), (0x77FFFFFF, 1), (0x77FFFFFC, 4), (0x20, 1)])
def test_writes_that_end_at_the_edge_of_memory_still_prove(ptr, length):
    """Completeness at the boundary: a buffer whose last byte is 0x77FFFFFF (or whose first is
    0x20) passes every constraint, the span and room checks included."""
    chips, tables, execution = run_machine([syscall(0x02, 1, ptr, length), halt(0)], data=bytes(16))
    assert len(execution.stdout) == length
    check_machine(chips, tables)


def test_memory_accesses_at_the_top_of_memory_prove():
    """Completeness at 0x77FFFFFC, the last word below p − 1: a store, a load and a HINT_READ
    there pass the address checks (sum < 0x78000000, room ≥ 0) that reject one word higher."""
    top = 0x77FFFFFC
    code = [asm.li(1, top), asm.li(2, 0x01020304), asm.sw(2, 1, 0), asm.lw(3, 1, 0), asm.lbu(4, 1, 3),
            asm.li(10, top), asm.li(11, 4), asm.li(5, 0xF1), asm.ecall(),     # HINT_READ 4 bytes at the top
            asm.lw(6, 1, 0), halt(0)]
    chips, tables, execution = run_machine(code, inputs=[b"\xfe\xff\xff\x7f"])
    check_machine(chips, tables)
    for addr in (top + 4, 0x7FFFFFFC, 0xFFFFFFFC):  # one word past the top, near 2^31, near 2^32
        with pytest.raises(MemoryOutOfRange):
            run_machine([asm.li(1, addr), asm.lw(3, 1, 0), halt(0)])


# --- 5. the fetch: the executor runs what the proof's program table holds ---------------------


def _stores_into_its_code():
    """A risc0 guest that stores "addi a0, a0, 256" over the instruction it runs next: exit code
    5 if the program as loaded runs, 6 if the stored word did (RISC Zero's own fetch)."""
    from pyzkvm.executor.risc0 import output_digest
    from tests.rvasm import TEXT_BASE, flatten, program

    def code(target):
        return flatten([asm.li(10, 5 << 8), asm.li(11, DATA_BASE), asm.li(5, 0), asm.li(6, target),
                        asm.li(7, asm.addi(10, 10, 256)), asm.sw(7, 6, 0), asm.addi(10, 10, 0), asm.ecall()])
    target = TEXT_BASE + 4 * code(0).index(asm.addi(10, 10, 0))
    return program(code(target), data=output_digest(b"") + bytes(32), abi="risc0")


def test_a_guest_that_stores_into_its_code_is_proved_as_its_executor_runs_it():
    """Under the risc0 profile the executor once re-decoded stored words while the proof fetched
    from the program table (the program as loaded): a prover running the original word got a
    verified receipt for exit code 5 where the executor said 6 (a red-team forgery, session 24).
    Now both fetch the program as loaded: the executor's exit code is the proof's."""
    from pyzkvm.executor import execute
    from pyzkvm.machine import build_chips, generate_tables
    from pyzkvm.stark import prove, verify

    prog = _stores_into_its_code()
    execution = execute(prog, [], capture_trace=True)
    assert execution.exit_code == 5 and execution.halted
    chips = build_chips(prog)
    tables = generate_tables(chips, execution)
    check_machine(chips, tables)
    assert tables.statement.exit_code == 5
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data)
    verify(pk.verifying_key, proof.to_bytes(), tables.public_values, public_data=tables.public_data)


def test_a_trace_that_ran_a_stored_word_is_refused(monkeypatch):
    """A trace that fetched from memory (the stored word ran: exit code 6) is not the program's:
    the prover refuses it before proving; the AIR's program bus refuses such a row
    (test_machine_attacks.py::test_changed_instruction_word)."""
    from pyzkvm.errors import UnsupportedProgram
    from pyzkvm.executor import execute
    from pyzkvm.executor.risc0 import Risc0Abi
    from pyzkvm.machine import build_chips, generate_tables

    init = Risc0Abi.__init__

    def fetch_from_memory(self, machine, io):
        init(self, machine, io)
        machine.fixed_code = False
    monkeypatch.setattr(Risc0Abi, "__init__", fetch_from_memory)
    prog = _stores_into_its_code()
    execution = execute(prog, [], capture_trace=True)
    assert execution.exit_code == 6
    with pytest.raises(UnsupportedProgram, match="not the program's as loaded"):
        generate_tables(build_chips(prog), execution)


def test_code_spread_over_more_than_64_mib_is_refused_at_load():
    """Executable segments 80 MiB apart: the executor once decoded only the entry segment and
    ended an SP1 run where the far one began (exit 0), while the program table held both and a
    proof ran on into it (a verified receipt for the far code's exit code 7: session 24's
    red-team). Such a program is now refused where it is made — from an ELF or built directly —
    so neither the executor nor the program table ever sees one."""
    import struct

    from pyzkvm.errors import ProgramError
    from pyzkvm.program import Program, Segment
    from tests.rvasm import TEXT_BASE, elf, flatten

    far = 0x05000000
    near, away = flatten([asm.li(6, far), asm.jalr(0, 6, 0)]), flatten([asm.li(10, 7), asm.li(5, 0), asm.ecall()])
    pack = lambda words: b"".join(struct.pack("<I", w) for w in words)  # noqa: E731
    with pytest.raises(ProgramError, match="executable segments span .* more than 64 MiB"):
        Program.from_elf(elf([], segments=[(TEXT_BASE, pack(near), 5, None), (far, pack(away), 5, None)]))
    with pytest.raises(ProgramError, match="more than 64 MiB"):
        Program(entry=TEXT_BASE, segments=(Segment(TEXT_BASE, pack(near), 5), Segment(far, pack(away), 5)))
    # 64 MiB apart exactly is still one code range
    ok = Program(entry=TEXT_BASE, segments=(Segment(TEXT_BASE, pack(near), 5),
                                            Segment(TEXT_BASE + (4 << 24) - 4, pack(away[-1:]), 5)))
    assert ok.executable_span() == (TEXT_BASE, TEXT_BASE + (4 << 24))


def test_a_data_segment_between_code_segments_is_refused_where_the_program_is_made():
    """A segment that is not executable inside the executable segments' span: the executor
    decodes the whole span and ran its words (HALT(5) stored as data, exit code 5), while the
    proof's program table holds executable words only and the prover refused the run (a
    red-team review, session 26). Refused at load now; data beside the code (after it, or
    sharing its last word) still loads."""
    import struct

    from pyzkvm.errors import ProgramError
    from pyzkvm.program import Program
    from tests.rvasm import TEXT_BASE, elf, flatten, halt

    pack = lambda code: b"".join(struct.pack("<I", w) for w in flatten(code))  # noqa: E731
    code, data, more = pack([asm.jal(0, 0x1000)]), pack(halt(5)), pack([asm.ebreak()])
    with pytest.raises(ProgramError, match="not executable, .* lies between the executable segments"):
        Program.from_elf(elf([], segments=[(TEXT_BASE, code, 5, None), (TEXT_BASE + 0x1000, data, 6, None),
                                           (TEXT_BASE + 0x2000, more, 5, None)]))
    beside = Program.from_elf(elf([], segments=[(TEXT_BASE, code + b"\x01\x02", 5, None),
                                                (TEXT_BASE + 6, b"\x03\x04" + data, 6, None),
                                                (TEXT_BASE + 0x2000, data, 6, None)]))
    assert beside.executable_span() == (TEXT_BASE, TEXT_BASE + 8)
