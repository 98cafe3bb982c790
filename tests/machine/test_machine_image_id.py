"""The image ID (v3) hashes the circuit digests of the machine's verifying key at blowups 4, 8
and 16 (test_image_id_v3.py): it changes with the program (code, data) and with any constant
inside a constraint, is the same for every preset the stark backend accepts, and
Program.image_id reports it for every backend."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import StarkConfigError
from pyzkvm.machine import machine_image_id, machine_key_from_parts, machine_verifying_key
from pyzkvm.machine.image_id import check_image_id_config, image_id_of, machine_circuit_digests
from pyzkvm.stark import BLOWUP2_100_BITS, DEFAULT, INSECURE_FAST_FOR_TESTS, Air, setup
from tests.rvasm import asm, halt, program


def test_image_id_binds_code_and_data():
    base = program([asm.addi(1, 0, 1), halt(0)], data=b"\x01\x02\x03\x04")
    same = program([asm.addi(1, 0, 1), halt(0)], data=b"\x01\x02\x03\x04")
    other_code = program([asm.addi(1, 0, 2), halt(0)], data=b"\x01\x02\x03\x04")
    other_data = program([asm.addi(1, 0, 1), halt(0)], data=b"\x01\x02\x03\x05")
    ids = [machine_image_id(p) for p in (base, same, other_code, other_data)]
    assert len(ids[0]) == 32
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3  # code and data both change it
    assert base.image_id == ids[0]  # Program.image_id is this ID (every backend uses it)


def test_image_id_is_the_same_for_default_and_the_test_preset():
    prog = program([asm.addi(1, 0, 1), halt(0)])
    default = machine_verifying_key(prog, DEFAULT)
    fast = machine_verifying_key(prog, INSECURE_FAST_FOR_TESTS)
    assert default.circuit_digest == fast.circuit_digest == machine_circuit_digests(prog)[0]  # blowup 4's
    assert prog.image_id == image_id_of(machine_circuit_digests(prog))  # v3: every blowup's (test_image_id_v3)
    assert default.digest != fast.digest  # the transcript still binds the query parameters
    with pytest.raises(StarkConfigError, match="blowup"):
        check_image_id_config(BLOWUP2_100_BITS)


def test_verifier_rebuilds_the_key_from_the_seal_parts():
    prog = program([asm.addi(1, 0, 1), halt(0)])
    vk = machine_verifying_key(prog, INSECURE_FAST_FOR_TESTS)
    again = machine_key_from_parts(INSECURE_FAST_FOR_TESTS, vk.prep_root, vk.prep_log_heights)
    assert again.circuit_digest == vk.circuit_digest and again.digest == vk.digest
    other_root = bytes([vk.prep_root[0] ^ 1]) + vk.prep_root[1:]
    assert machine_key_from_parts(INSECURE_FAST_FOR_TESTS, other_root, vk.prep_log_heights).circuit_digest != vk.circuit_digest


def test_constants_inside_constraints_are_bound(monkeypatch):
    """The memory-key base (a constant in the CPU's and syscall chip's constraints) and a
    syscall code enter the digest; nothing preprocessed changes with them."""
    import pyzkvm.machine.cpu as cpu
    import pyzkvm.machine.syscall as syscall

    from pyzkvm.machine.chip import Chip

    def fresh_chips():  # build_chips' instances are shared and keep their compiled AIR (Chip.for_program):
        # new ones compile the constraints again, with the constant changed
        monkeypatch.setattr(Chip, "for_program", classmethod(lambda cls, program, image: cls()))

    prog = program([asm.addi(1, 0, 1), halt(0)])
    base = machine_verifying_key(prog, INSECURE_FAST_FOR_TESTS)
    fresh_chips()
    monkeypatch.setattr(cpu, "MEM_KEY_BASE", 33)
    moved = machine_verifying_key(prog, INSECURE_FAST_FOR_TESTS)
    assert moved.prep_root == base.prep_root and moved.circuit_digest != base.circuit_digest
    monkeypatch.undo()
    assert machine_verifying_key(prog, INSECURE_FAST_FOR_TESTS).circuit_digest == base.circuit_digest
    fresh_chips()
    monkeypatch.setitem(syscall.CODES, "hint_len", 0xF2)  # the syscall code HINT_LEN's row must carry
    assert machine_verifying_key(prog, INSECURE_FAST_FOR_TESTS).circuit_digest != base.circuit_digest


class _Const(Air):
    name, width = "const", 1

    def __init__(self, c):
        self.c = c

    def constraints(self, b):
        b.assert_zero(b.main(0) - self.c, "x = c")


def test_air_digest_covers_constraint_constants():
    a, b, c = (setup(INSECURE_FAST_FOR_TESTS, [_Const(k)]).verifying_key for k in (5, 6, 5))
    assert a.circuit_digest == c.circuit_digest
    assert a.circuit_digest != b.circuit_digest


def test_risc0_profile_has_its_own_machine_image_id():
    """The same ELF under the two profiles: both IDs are the machine's, and they differ (every
    ecall row of the program table names the profile)."""
    from pathlib import Path

    from pyzkvm import Program

    elf = Path(__file__).resolve().parents[2] / "guests" / "bin" / "fibonacci.elf"
    r0 = Program.from_elf(elf, abi="risc0")
    sp1 = Program.from_elf(elf)
    assert r0.image_id != r0.content_digest
    assert sp1.image_id != sp1.content_digest and sp1.image_id != r0.image_id
    assert np.frombuffer(sp1.image_id, dtype=np.uint8).size == 32
