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
MACHINE_AIR_DIGEST = "2d32c9bf04d60dd4bea6d6ea552517a660e00c66bfb78c92c529cce9cb168789"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "1af8072d2ad25b438eb6d476f075ddc7f329a55a2a74f221e2e1d367f834d34c",
    "ed25519-verify.elf": "3bcd743aba65799434e20872b0f74d8f3a5c431302da4c8ded0f8ced349f9ad5",
    "fibonacci.elf": "991716c779ef3b95246173ca0557dd5f38ee9fdf074ad84af92a371451ca51c4",
    "isqrt-hint.elf": "801d439e6f26f582e891077e5779f5725c064e4f8bb40e0ec35d089e15a99631",
    "keccak256.elf": "7bfe13be27b4555846d6a3620249f45d3636f20e15b4d16da2175d840b86abb9",
    "panic.elf": "7fe61a75a06a601d2467826de43aaace923246f6db7c7a1c9dec96f1b5fc65fa",
    "precompiles.elf": "64497afcb88ceec7e29bfcb4ee45ca678190b984b4c45d3664724d7f071766d9",
    "rv32im-selftest.elf": "2f31c3bc5baea2706a6a77469eaea2738cbde9e0883c777484580735b5557990",
    "sha256.elf": "47d6887cd771403444f36002021922ad210bd45147c0c25a6da683290f356d65",
    "sort.elf": "22737b83ffa0e68a2054cd32ecbc295e7ff5a05b8b03fedf369350ce6753b882",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "94e050544a806b9c01dbe4d3284ce2efbc5f03591c6320aa01acc1a540b30169",
    "risc0/panic.elf": "ecf939a687572430be2582c7f336d11cf3ba9edd21fbe800c7d555207f91ac9b",
    "risc0/rv32im-selftest.elf": "0b5d12d21bc3a7d551ba9ac79d7d3683d4c1f0a5552dac3dc68b094a88998839",
    "risc0/sha256.elf": "4cbfbb655e8ea26e53a83fbed8b0aa6dbad33d556b3a940f97f03fdc6399dafa",
    "risc0/sort.elf": "f4d9865a2708efaf123f3749d7744de7b6f2bd723d19862342e9d2a76d647e63",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "52bc3ed154b342fbcba873134f2595a37218f34b0adb6ec1bc4f87baa983db78"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "75aa31c9378f087e55d97cc235fccacbc1afde011888cea6ad5eb57bdfb599df"


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
