"""The RISC Zero profile in the machine AIR (issue 16 §5).

A small risc0-profile program: SYS_READ of 2 words from the input, SYS_WRITE of 4 journal bytes,
HALT with halt type 0, exit code 5 and a1 → RISC Zero's output digest of the journal. Its tables
pass the debug check and prove; each binding of the statement is attacked: the output digest
(the COMMIT slots, which the verifier computes from the claimed journal), the exit code and
halt type (HALT's a0), the profile (PV_PROFILE against the program's ecall rows), and the image
ID (the same ELF under the two profiles). RISC Zero's SHA ecall: test_machine_risc0_sha.py."""

from __future__ import annotations

import pytest

from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
from pyzkvm.executor import execute
from pyzkvm.executor.risc0 import output_digest
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.machine.image_id import machine_image_id
from pyzkvm.machine.statement import PV_COMMIT, PV_EXIT_CODE, PV_PROFILE
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forced_proof_rejected, forged
from tests.rvasm import DATA_BASE, asm, flatten, program

JOURNAL = b"hi!!"
WRITE_NAME = b"risc0_zkvm_platform::syscall::nr::SYS_WRITE\0"
READ_NAME = b"risc0_zkvm_platform::syscall::nr::SYS_READ\0"
# data: journal at DATA_BASE, digest at +32, the two syscall names from +64, buffers after
DATA = JOURNAL + bytes(28) + output_digest(JOURNAL) + WRITE_NAME + bytes(-len(WRITE_NAME) % 4) + READ_NAME + bytes(64)
READ_NAME_AT = DATA_BASE + 64 + len(WRITE_NAME) + (-len(WRITE_NAME) % 4)


def software(a0, a1, name_at, a3, a4, a5=0):
    """SOFTWARE ecall: t0 = 2, a2 → the syscall's name."""
    return [asm.li(10, a0), asm.li(11, a1), asm.li(12, name_at), asm.li(13, a3), asm.li(14, a4), asm.li(15, a5),
            asm.li(5, 2), asm.ecall()]


def r0_halt(a0, digest_at):
    return [asm.li(10, a0), asm.li(11, digest_at), asm.li(5, 0), asm.ecall()]


CODE = [software(DATA_BASE + 200, 2, READ_NAME_AT, 0, 8),             # SYS_READ 2 words into +200
        software(0, 0, DATA_BASE + 64, 3, DATA_BASE, len(JOURNAL)),      # SYS_WRITE the journal (fd 3)
        r0_halt(0 | 5 << 8, DATA_BASE + 32)]


def _tables(code=CODE, data=DATA, inputs=(b"abcdefgh",)):
    prog = program(flatten(code), data=data, abi="risc0")
    execution = execute(prog, list(inputs), capture_trace=True)
    chips = build_chips(prog)
    return chips, generate_tables(chips, execution), execution


@pytest.fixture(scope="module")
def honest():
    chips, tables, execution = _tables()
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    return chips, tables, execution, pk


def test_honest_run_proves(honest):
    chips, tables, execution, pk = honest
    assert (execution.journal, execution.exit_code, execution.halt_type) == (JOURNAL, 5, 0)
    assert execution.output_digest_matches
    assert tables.statement.profile == "risc0" and tables.journal == b""  # bound by the digest, not the bus
    check_machine(chips, tables)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)


def _set_word_bytes(pv, slots, value: int):
    for i, b in zip(slots, value.to_bytes(4, "little")):
        pv[i] = b


ATTACKS = {
    # the verifier's output digest (of another journal) is not the one HALT read
    "wrong output digest": (lambda t: _set_word_bytes(t.public_values, PV_COMMIT[:4],
                                                      int.from_bytes(output_digest(b"hi!?")[:4], "little")),
                            r"bus .*'commit'"),
    "wrong exit code": (lambda t: t.public_values.__setitem__(PV_EXIT_CODE[1], 6), r"HALT: exit code = a0"),
    "wrong halt type": (lambda t: t.public_values.__setitem__(PV_EXIT_CODE[0], 1), r"HALT: exit code = a0"),
    "read as an sp1 receipt": (lambda t: t.public_values.__setitem__(PV_PROFILE, 0), r"ABI profile is PV_PROFILE"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_attack(honest, attack):
    chips, tables, _, _ = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


@pytest.mark.parametrize("attack", ["wrong output digest", "wrong halt type"])
def test_forced_proof_is_rejected(honest, attack):
    chips, tables, _, pk = honest
    bad = forged(tables, ATTACKS[attack][0])
    forced_proof_rejected(pk, chips, bad, VerificationError)


def test_software_answer_words_are_free_but_bytes(honest):
    """SYS_READ's words and a0/a1 answers are the host's (free); a word out of byte range is not."""
    from pyzkvm.machine.syscall import HINT_WORDS
    chips, tables, _, _ = honest

    def edit(t):
        t.traces["hint words"][0, HINT_WORDS.after[0]] = 256
    with pytest.raises(ConstraintNotSatisfied):
        check_machine(chips, forged(tables, edit))


def test_image_id_covers_the_profile():
    elf_code = flatten(CODE)
    ids = {abi: machine_image_id(program(elf_code, data=DATA, abi=abi)) for abi in ("sp1", "risc0")}
    assert ids["sp1"] != ids["risc0"]

