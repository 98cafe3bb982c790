"""The STARK image ID is the digest of the machine's verifying key: it changes with the
program (code, data, entry) and with the STARK parameters, and is stable otherwise."""

from __future__ import annotations

from pyzkvm.machine import machine_image_id
from pyzkvm.stark import DEFAULT, INSECURE_FAST_FOR_TESTS
from tests.rvasm import asm, halt, program


def test_image_id_binds_code_data_and_parameters():
    base = program([asm.addi(1, 0, 1), halt(0)], data=b"\x01\x02\x03\x04")
    same = program([asm.addi(1, 0, 1), halt(0)], data=b"\x01\x02\x03\x04")
    other_code = program([asm.addi(1, 0, 2), halt(0)], data=b"\x01\x02\x03\x04")
    other_data = program([asm.addi(1, 0, 1), halt(0)], data=b"\x01\x02\x03\x05")
    ids = [machine_image_id(p, INSECURE_FAST_FOR_TESTS) for p in (base, same, other_code, other_data)]
    assert len(ids[0]) == 32
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3  # code and data both change it
    assert machine_image_id(base, DEFAULT) != ids[0]  # so do the STARK parameters
