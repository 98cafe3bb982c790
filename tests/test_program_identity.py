"""What names a program to its caches and its verifier (session 25's red-team review).

* Two ELFs with one memory image, one of them marking its second segment executable: different
  circuits (the program table holds the executable words), so different image IDs, however the
  caches were filled first. The caches were keyed on the content digest (ABI, entry, image), which
  gave the data-segment twin the executable one's ID, and a receipt of code it cannot run.
* ``Program.from_elf`` reads the sp1-zkvm version an ELF names, as the CLI does: a verify given
  the Program of an SP1 v3 ELF refuses a stark receipt, whichever way the Program was loaded.
* ``dataclasses.replace`` of a Program computes its own IDs.
"""

from __future__ import annotations

import dataclasses
import struct

import pytest

import pyzkvm
from pyzkvm import memo
from pyzkvm.errors import ProgramError, VerificationError
from pyzkvm.machine.image_id import IMAGE_ID_LOG_BLOWUPS, _config_at, _key_without_setup, image_id_of
from pyzkvm.program import Program
from tests.rvasm import asm, elf, flatten, halt, syscall

TEXT, DATA = 0x00201000, 0x00300000
MESSAGE = b"PWNED!!!"


def _words(ws) -> bytes:
    return b"".join(struct.pack("<I", w) for w in ws)


def _twins() -> tuple[bytes, bytes]:
    """(A, B): the text jumps to DATA, where code journals MESSAGE and halts; A's DATA segment is
    R+W+X, B's the same bytes R+W (an honest run of B leaves the code there and journals nothing)."""
    text = flatten([asm.li(6, DATA), asm.jalr(0, 6, 0)])
    payload = _words(flatten([syscall(2, 3, DATA + 0x100, len(MESSAGE)), halt(0)])).ljust(0x100, b"\0") + MESSAGE

    def make(flags):
        return elf(text, segments=[(TEXT, _words(text), 5, None), (DATA, payload, flags, None)])

    return make(7), make(6)


def _uncached_image_id(program: Program) -> bytes:
    return image_id_of([_key_without_setup(program, _config_at(b)).circuit_digest for b in IMAGE_ID_LOG_BLOWUPS])


def test_a_data_segment_twin_of_an_executable_one_has_its_own_image_id():
    elf_a, elf_b = _twins()
    a, b = Program.from_elf(elf_a), Program.from_elf(elf_b)
    assert a.content_digest == b.content_digest  # one memory image: the old cache key could not tell them apart
    assert a.circuit_key != b.circuit_key and memo.program_key(a) != memo.program_key(b)
    first = a.image_id  # fills the process's caches and the memo with A's ID first
    later = Program.from_elf(elf_b).image_id
    assert later != first
    assert later == _uncached_image_id(b) and first == _uncached_image_id(a)


def test_the_twins_run_differently_and_a_receipt_of_one_is_refused_for_the_other():
    elf_a, elf_b = _twins()
    assert pyzkvm.execute(Program.from_elf(elf_a)).journal == MESSAGE
    assert pyzkvm.execute(Program.from_elf(elf_b)).journal == b""
    receipt = pyzkvm.prove(Program.from_elf(elf_a), backend="stark", preset="insecure_fast_for_tests")
    assert receipt.journal == MESSAGE
    assert pyzkvm.verify(receipt, Program.from_elf(elf_a), allow_insecure=True).image_id == Program.from_elf(elf_a).image_id
    with pytest.raises(VerificationError, match="image ID"):
        pyzkvm.verify(receipt, Program.from_elf(elf_b), allow_insecure=True)


def test_a_replaced_program_computes_its_own_ids():
    program = Program.from_elf(_twins()[0])
    ids = program.image_id, program.content_digest, program.circuit_key
    moved = dataclasses.replace(program, entry=program.entry + 4)
    assert (moved.image_id, moved.content_digest, moved.circuit_key) != ids
    assert moved.content_digest != ids[1] and moved.circuit_key != ids[2]
    risc0 = dataclasses.replace(program, abi="risc0")
    assert risc0.image_id == Program.from_elf(_twins()[0], abi="risc0").image_id != ids[0]


V3_NAME = b"\0/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/sp1-zkvm-3.4.0/src/lib.rs\0"


def test_from_elf_reads_the_sp1_version_the_elf_names():
    code = flatten([syscall(2, 13, 0x00300000, 4), halt(0)])  # fd 13: the journal from v4, unknown in v3
    v3 = elf(code, data=b"FD13" + V3_NAME)
    assert Program.from_elf(v3).sp1_profile == "sp1@3"
    assert Program.from_elf(v3, abi="sp1").sp1_profile is None  # an explicit choice: SP1 v5's behaviour
    assert Program.from_elf(v3, abi="sp1@4").sp1_profile == "sp1@4"
    assert Program.from_elf(elf(code, data=b"FD13")).sp1_profile is None  # names no version
    with pytest.raises(ProgramError, match="unknown ABI profile"):
        Program.from_elf(v3, abi="sp1@9")


def test_a_stark_receipt_is_refused_for_the_library_loaded_program_of_an_sp1_v3_elf():
    """v3 does not journal fd 13; the proof (sp1@5's behaviour) does: a receipt proved with
    ``abi="sp1"`` journals what no v3 run does, and a verify given the ELF's Program refuses it."""
    code = flatten([syscall(2, 13, 0x00300000, 4), halt(0)])
    v3 = elf(code, data=b"FD13" + V3_NAME)
    receipt = pyzkvm.prove(Program.from_elf(v3, abi="sp1"), backend="stark", preset="insecure_fast_for_tests")
    assert receipt.journal == b"FD13"
    assert pyzkvm.execute(Program.from_elf(v3)).journal == b""
    with pytest.raises(VerificationError, match="sp1@3"):
        pyzkvm.verify(receipt, Program.from_elf(v3), allow_insecure=True)
    with pytest.raises(pyzkvm.errors.UnsupportedProgram, match="sp1@3"):
        pyzkvm.prove(Program.from_elf(v3), backend="stark", preset="insecure_fast_for_tests")
