"""Frozen known answers (DESIGN.md §5): the machine's constraints, every prebuilt guest's image
ID and the bytes of one small deterministic proof are pinned here, so any change to the
circuit or to the protocol shows up as a deliberate, visible diff in this file.

When a change is *meant* to alter them (a new constraint, a transcript step, a preset), print
the new values with ``python -m tests.test_known_answers`` and paste them below; say in the
commit message why they changed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import blake3
import pytest

GUESTS = Path(__file__).resolve().parents[1] / "guests" / "bin"

#: BLAKE3 over every machine AIR's constraint-DAG digest (keys.air_digest), program-independent
MACHINE_AIR_DIGEST = "011e115ab0693230d3a6e53931cbc4bbd6273ac312fd395c1a8a6d08f1e3aefd"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "26fdd08603960eaed38762c0fc055ce804e40755d77c85f3a915724f1769357b",
    "ed25519-verify.elf": "f56c8d49f37f62a2dc128850cbbb3f2ec8f34dfed31726e4a23160069280c3f6",
    "fibonacci.elf": "4aead2c810b620a9286b1d4d6102e59822e355bc0d17a55174f34369a62025a3",
    "isqrt-hint.elf": "7f077f3a7bebbfc8d13b89215ad1d2081ccfd310c12149bf02b14f2d5f338e1b",
    "keccak256.elf": "68d07bd79ea7cd838ec4264164e597db9bc4c4a216099f2c5ec0762d1403986a",
    "panic.elf": "ed2a85068a608309c255693f960c0bdb24e4adb93a31aa70e593a5b11926a033",
    "precompiles.elf": "0c2509c06a8eb61cc68f6939dab657c01eb65d33f63d8f9205cb324ca1e7aa12",
    "rv32im-selftest.elf": "c6bcdcc00974454a4373aff53c8bd06c785a31c6743b22b346869110a11348fc",
    "sha256.elf": "0f2954f2f226a7b2cf21275336adb929172e24764455f71a49f29b840761a467",
    "sort.elf": "f159b82a7d76c11e56b0381c7ef769955d3eca159e6ced56c5abd385f50e16ce",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "3fdcc6a9d964f248423dc8cadcc27668ffee760d8437763275711b4ac138a52a",
    "risc0/panic.elf": "5df431d536503e034827d87a80eb13f6255ebb709230cd2c83428369d7613057",
    "risc0/rv32im-selftest.elf": "9f73ac1721dff835651e6d318aef5888af5a3042cda7d47f51388b2dc57b1804",
    "risc0/sha256.elf": "b16056ef87259d781b7332246c1924f1f7628113988c62cd2cc11a1c55197ac4",
    "risc0/sort.elf": "62c8e010aab9d95162cb2cb34a4a13f98dd724afed59c8d91a72499b6bf570d6",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "80792c4cdd96814f3c02f14fd38563aef61c1f33df90bf114117659a9c43cbd1"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "fcfbd6d157ec2a03e474070edf26fa082bc3316ddfcff69a4f47e68645cf5288"


def machine_air_digest() -> str:
    from pyzkvm.machine import machine_airs
    from pyzkvm.stark.air import compile_air
    from pyzkvm.stark.keys import air_digest

    h = blake3.blake3(b"pyzkvm machine AIRs")
    for air in machine_airs():
        h.update(air_digest(compile_air(air)))
    return h.hexdigest()


def image_id(name: str, abi: str = "sp1") -> str:
    from pyzkvm.program import Program

    return Program.from_elf(GUESTS / name, abi=abi).image_id.hex()


def fibonacci_toy_proof() -> str:
    from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup
    from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace

    trace, pv = fibonacci_trace(64)
    proof = prove(setup(INSECURE_FAST_FOR_TESTS, [FibonacciAir()]), [trace], pv).to_bytes()
    return blake3.blake3(proof).hexdigest()


def test_machine_air_digest_is_pinned():
    assert machine_air_digest() == MACHINE_AIR_DIGEST


@pytest.mark.parametrize("name", sorted(IMAGE_IDS))
def test_prebuilt_guest_image_ids_are_pinned(name):
    assert image_id(name) == IMAGE_IDS[name]


@pytest.mark.parametrize("name", sorted(RISC0_IMAGE_IDS))
def test_prebuilt_risc0_guest_image_ids_are_pinned(name):
    assert image_id(name, "risc0") == RISC0_IMAGE_IDS[name]


def machine_proof() -> str:
    """A machine proof of a 3-instruction guest that journals 4 bytes (every bus, the bus PoW)."""
    from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup
    from tests.machine.machine_helpers import run_machine
    from tests.rvasm import DATA_BASE, halt, syscall

    chips, tables, _ = run_machine([syscall(0x02, 3, DATA_BASE, 4), halt(7)], data=b"pin!" + bytes(12))
    pk = setup(dataclasses.replace(INSECURE_FAST_FOR_TESTS, bus_pow_bits=4), chips.airs)  # the bus grind too
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    return blake3.blake3(proof).hexdigest()


def test_small_proof_bytes_are_pinned():
    assert fibonacci_toy_proof() == FIBONACCI_TOY_PROOF


def test_small_machine_proof_bytes_are_pinned():
    assert machine_proof() == MACHINE_PROOF


def test_every_prebuilt_guest_is_pinned():
    assert sorted(p.name for p in GUESTS.glob("*.elf")) == sorted(IMAGE_IDS)
    assert sorted(f"risc0/{p.name}" for p in (GUESTS / "risc0").glob("*.elf")) == sorted(RISC0_IMAGE_IDS)


if __name__ == "__main__":
    print(f'MACHINE_AIR_DIGEST = "{machine_air_digest()}"')
    print("IMAGE_IDS = {")
    for name in sorted(p.name for p in GUESTS.glob("*.elf")):
        print(f'    "{name}": "{image_id(name)}",')
    print("}")
    print("RISC0_IMAGE_IDS = {")
    for name in sorted(f"risc0/{p.name}" for p in (GUESTS / "risc0").glob("*.elf")):
        print(f'    "{name}": "{image_id(name, "risc0")}",')
    print("}")
    print(f'FIBONACCI_TOY_PROOF = "{fibonacci_toy_proof()}"')
    print(f'MACHINE_PROOF = "{machine_proof()}"')
