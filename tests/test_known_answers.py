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
MACHINE_AIR_DIGEST = "b41bbd68572c0db0deedaf2363134bbac5c48bd7cb6569f25fbe9b168dd29a19"
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "1136c51c382fbf5ba84b97613e2d6ceebea950cf1bf082031bcabb39c8e67849",
    "ed25519-verify.elf": "47c17ae1c992d56b2b433e9526d5511f91fd7ef44a65a40838f323609c369c40",
    "fibonacci.elf": "21ebbe2eeacfefc1b00165c2e152ac7ff732da942dc2f2ad50f23a58c7c9c453",
    "isqrt-hint.elf": "c0d1388c25065916b64a7e02ca2e331d2b0553ad24513f4fbc9bb5dfd3ea2b36",
    "keccak256.elf": "83e0321d94b0d9c5ee71d827d217dbf9d9fe322c97e1a00a9fc9f441a83f6369",
    "panic.elf": "88d6afd637bcbd61d11f3ebcc7bf15d401bfc9a1fd24e65b37dd6af171d906a7",
    "precompiles.elf": "b26b85ea60e629ae2f19de6fb1dc71d241a4f525057f83810d01823f73035cbf",
    "rv32im-selftest.elf": "b0841376b0cd86e2ed39bf6e5bc6c571f767acf96af744b37dbfc4f0110529c9",
    "sha256.elf": "018be5dbd6e33ae6cbb57f9a4dcfe4548a2ac61a840e62f753deeeb7f71b217a",
    "sort.elf": "1e53ebb527989434e3af578dbec18b81de12abacc4fb3f9009772670501f8c62",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "eaeef33aaa373aa29b6e131c4927c8ea4610c5f8b049ea42f1bd98bce9e3786e",
    "risc0/panic.elf": "6411ed982e8948f627c0a84256f7d8fcb13162103667760f6167afa230738dc0",
    "risc0/rv32im-selftest.elf": "b7987f6f45a3c7b32bf0575bc7a21fcce8590a28ca0b6a845428d1510fb50e4c",
    "risc0/sha256.elf": "d7835357e704b9d3f7a0463cc5ba79d09f63fd9bb9f86424adf4aead6dfd6267",
    "risc0/sort.elf": "5c3cd62daa6d61ff5102730ce14144f599c3b2b043846ac99771357530b9f5c1",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "52bc3ed154b342fbcba873134f2595a37218f34b0adb6ec1bc4f87baa983db78"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "cec06e27bf66e50e4fa088235d20c4a7a9a0123d62d8b03eaea8c33c523ce150"


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
