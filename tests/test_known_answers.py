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
MACHINE_AIR_DIGEST = "1346cf4aa715f319aadc0c3cff54a79114fc42810e8c6519680b81e9ebe1386f"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "10f17b9a635515b0462075e97a84b1529276bfcdb7dea8c845525f9fdf0c663b",
    "ed25519-verify.elf": "8136b063bc53adac98289939a95517113bcd5f7c4d21ecc273ca4dd0dea3d10b",
    "fibonacci.elf": "0555b500ceccddd41fb5155d2bb9f25518efc434815dd9f48c2d346ab39e5e10",
    "isqrt-hint.elf": "16a6d298491276659dd17f9a163f9d56dcf2f7aa20a516e689d7640da533bdb0",
    "keccak256.elf": "2166b5d7ee48216ffab8d83ffd3977ba318254dde04554e99a05e1aed7a8ef35",
    "panic.elf": "f83d639049a0d7d3f4cf81d5a91bcd58803459fb1bae4eabfc92699378b28eb2",
    "precompiles.elf": "d49574a53efa2b70c31c353f8ff0b44b8c7914d191b2007b14dc608b493ca99d",
    "rv32im-selftest.elf": "7dfe96201f509ab41cd454897d96ce64d9fc4d2c9eac1933cc73e22329e89033",
    "sha256.elf": "34a5b2c6ed0944525a5baf07066798f951c521a6f4985280019b378a829f7de7",
    "sort.elf": "10efca8a551524a03a4b9941c4ca5116bdd5209065b411bb4b029c253914a133",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "6fb27ae3176b2dc4d8a7467bbda6cce22d3845888e08724aecd7d527a2e019a4",
    "risc0/panic.elf": "658c46d0b0748438426b24de24f9c3fb3b3d595e607fd2e421e04d7ac4d403aa",
    "risc0/rv32im-selftest.elf": "9f15e76b46d0464e13efd0b87ee9dba5ac72e2981a0e70de263508f759828992",
    "risc0/sha256.elf": "01f97706b2ac7619e896f555b434284e6f7d048967506543863e100985211978",
    "risc0/sort.elf": "3e5efbef2d33c4a6d6c1d8da7dbe5cf2c93dbe705ba9814b7cdc0640eff565f7",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "ed89289a4b29d4a9253c07663fb898ae9faff4693ad0b643af39824810d23ec0"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "e0b08646e681a273e2f9b25e9942d9812da0b4adfd0107cad7493617e67933ef"


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
