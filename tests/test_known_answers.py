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
MACHINE_AIR_DIGEST = "925d007474ad59bca332b9750e40b01be243cbb44ecc315c618ef81c9155ae19"
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "41296816c33e79bc0d81176293eb0b7f7256215ce726f9f291baf922cdf50f5b",
    "ed25519-verify.elf": "82b2b66f434343ed398d4be68056503cd47abb2b5606029d33ddb146246cd6ec",
    "fibonacci.elf": "abaf6074bf25e0ffe47dbeafaddcadbe39460e54a0d015a31dacf1057005b537",
    "isqrt-hint.elf": "ced1dedfb099bb4ac29b462750ac30a1bce5a52d1a0ea13adbce187791ebbc3e",
    "keccak256.elf": "12fdf7583c1064b15058dbb0454c4aeec65aae9e4032869457be413b10980b9e",
    "panic.elf": "83c0798c0170303de02b33a336c6225bd415418c5bc3ce82ac06890712cdd7ce",
    "precompiles.elf": "851d5a970fb57805dfa34a395d9f8a3d60611dc531d6d8aac18ea7d0347fe025",
    "rv32im-selftest.elf": "0c2b018e01631b025f9f19dd62bc3c10788065b68ac8d951cc04140974679dd8",
    "sha256.elf": "ebfde242f0396a7dcdf143650db918971698536818278337288d67265c32476b",
    "sort.elf": "46bde25a703e6744ff0db61131a80a719d5113760857ef4a32835f58aa850c92",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "9230ba36d6b7befd4ba58300e75d157650599b5571ecfc12dee244a89a8085bb",
    "risc0/panic.elf": "ec58d3a9992274c18f10872be368edaf79ff9b86dc3e96d339d30c83226427a3",
    "risc0/rv32im-selftest.elf": "84b439f7a651c70fdd1cde902485621b9f62dbbc3f63ffb5ff49de4597ca11a1",
    "risc0/sha256.elf": "1c4910fcfea945e34eba42e00cb77b0e55e157bd0895fd1fe5302e8cebd89d5d",
    "risc0/sort.elf": "2d8c1a69f5190ca3281a420b9ab446a9218ed6c6d56b7251eccaefa753cc4a27",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "52bc3ed154b342fbcba873134f2595a37218f34b0adb6ec1bc4f87baa983db78"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "a0382c41f02ad7d0a7c85ce12713bb558e6f2cb237cce535eb06c6ce59efa5cc"


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
