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
MACHINE_AIR_DIGEST = "28741e0a2a398e45782a1428875a236bbfa240a3e9af15d22eaf55d14a92d908"
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "0600e920bd3ed3ccb503241d41cb41cf36c7a180090e1a6405e38faebd2638db",
    "ed25519-verify.elf": "9f90acce200cf267cba598769c80b5d1abac312755497380826aa5c38740a5b1",
    "fibonacci.elf": "3363bb88198ff580d416c293bb47bf2dd3065c0c43649334bd6c90bf51a8a645",
    "isqrt-hint.elf": "4cfc08f8df74bb3ebbb1b5709fb83941db6b9245897cbaa8c13f0ad288c5a818",
    "panic.elf": "55f5673b8fcb0fe4e8510c9ebc0dda904c97f5b1fdaf02741fa52c0888d16859",
    "precompiles.elf": "b6c804b85e09cb0715f67dd7c680786c521fad2c4f96ba4130bca0c0c8ca5282",
    "rv32im-selftest.elf": "a39f93313fdbaba1c9276a2348008b4aa8d223fd123c723293912c982deccb80",
    "sha256.elf": "f56cdf1a1d853bff9fdd635faf7762308af4f0a8c7ee77ec85c3a7127ca3a82e",
    "sort.elf": "96facd7917b79afa55cacf629abf39ba8436f397d827403fcae9dd4ae6d6f43f",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "e7d2621c5594eb809617c3547abff2383d60ddd33c3b9541b3539d432c9309d9",
    "risc0/panic.elf": "856ee57339511098b8cb6536add24192eb7c5887611bc9770071bcb3b0046d20",
    "risc0/rv32im-selftest.elf": "ad1f7f145a474ba12af23812e2b7b2b02054f71551b69417c6e7e2c57c9dc83e",
    "risc0/sha256.elf": "9c2072014f6b9c403107d54ecee9628ed093688e42a8b7cef18ffd44ecec5f38",
    "risc0/sort.elf": "acb6093c88b2d3bffa570ef1620db1b29716102038b19d081440263563c00bb9",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "b13419aaabcd0e13021117da7b2d6d51a72b552832564edacadd8023dfc4bdae"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "2c07d6c345de7d311fa3aa3f7b5c4383334335275378aea72730862de49b3bb0"


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
