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
MACHINE_AIR_DIGEST = "f7c6ab26fb4643c33095d6292cdfcda03bb424a785bb498b9235cec1ea4f6c3a"
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "b9e850e21cd4dcdc35304ddba556e6a960ba3bc586bcb90aa3b469810d8b04de",
    "ed25519-verify.elf": "3e1986479449afece88d6e42ddf74b1cf42e87e18082fc6afef71826f6749c7f",
    "fibonacci.elf": "a01daba8887645ec5b44b961f7a175ccb903aaa8f7611cd7079a8525086a117f",
    "isqrt-hint.elf": "7f88610bb0d33575a8377077e1d20679985d3f05f3ce770be81cec03ef20c7e2",
    "keccak256.elf": "367bf0e84f84e7b35474e847d927f0ad2f91ac9905b97d5e8d6739d0e8169cc0",
    "panic.elf": "b2b18f48ed2011e6edeedcd155e037d3a9b924a852b6ce0cabce46cbffb7fe13",
    "precompiles.elf": "42510fa00f8dccbd0b9bda2c8fc612da7ff2d30498feb67700df787d718a305b",
    "rv32im-selftest.elf": "e74c84ca4e7ed20840a1b624f33e2ba5d72d1a6935416a2aad738687a7101c1a",
    "sha256.elf": "f64fd9acd2be82f7ebb8b103fc551eab4eb5ce6e3a83122fed80a32035bad68e",
    "sort.elf": "17d2610ec7ddb8a0f440f1ef5a37dad1bf30926caea7143381750dd70b65d1d1",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "17bba87aaac33cf00d228f79974b79d4dc852308cbd4b77cd7446e5b7453984c",
    "risc0/panic.elf": "5df13fb0ba0633a1b7bd81b1593b2fc850b58b686d3bbe5b6c4b93626d52b9f3",
    "risc0/rv32im-selftest.elf": "0eedc35ad08678dc7b84302e6b13835119db94e29742b0a30bb4aaf708ac662f",
    "risc0/sha256.elf": "61ed586a3186715977ef5628aebb4eed38df1a5edffdc43e09b702c6587ad870",
    "risc0/sort.elf": "a61dcd16808bc367ae36430a123456ef3963ebe383c035070de7b2e661bf92ea",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "b13419aaabcd0e13021117da7b2d6d51a72b552832564edacadd8023dfc4bdae"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "72be7127361d233dab81e282c490437d1df1cd50705e2206d06b08b841323fa5"


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
