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
MACHINE_AIR_DIGEST = "cfaa7bf26c0b5f7a8c9c634cc8db3b2bc23b50add4ed0160eb19db5a3f9a6834"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "1cfe93da25927b2ad2ebdc95c5c67dc9dba111963d0d7fbe2631f385106cf319",
    "ed25519-verify.elf": "2d73edb0388ba6b1ab8ee64cca628d47f29e405eb01d8ed813ca7a9fafee4d54",
    "fibonacci.elf": "deb60b92d2885d7010c24105e2b5697462bd926676b5ab48c38f31e981d794fd",
    "isqrt-hint.elf": "204925ee176fe6069ce17e39b9cc1fb5d05bcd3118d9f33468b9e06ee08d6f0e",
    "keccak256.elf": "d01dccd798eca4cffc9a2cd9ea4f83b55acdd7424fd7579cedccfb5a0d5a2f27",
    "panic.elf": "dc69c8d70d5c4839a2d92889b46d83654f758f9ec225212efb8937c6a01978ad",
    "precompiles.elf": "6616f5d105ebd810089684aa6453006975a8e6444dd813819815fd01817ae189",
    "rv32im-selftest.elf": "4149706e26540b2c030ae09421bdb219625d20a300f9a4f22674465036bf75f4",
    "sha256.elf": "5f1dd297dabc3d83d5b9204e2610f66e11e0f4414da6d4a3fe77d9d159ef2fb8",
    "sort.elf": "11328255e7f20e0a1cf34e0c245d0198f94baf2db19b8c911a8245910bf270d2",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "feb467e7204aaa4e30bf305cd0f383895257bb8c972da0fe9b958316f3efae2f",
    "risc0/panic.elf": "3357eb9f93d19c96d21c6c52470e63eec9252c216323dd8e3466e922f40c5930",
    "risc0/rv32im-selftest.elf": "3600eb0ea6aa56969492074799ca971035f8e04d1e9192884a29f58c20f7e2f6",
    "risc0/sha256.elf": "a006510e309700aeeca9686d5b1b3c702e2ec1ac4927d1b775d3d7519dc05d93",
    "risc0/sort.elf": "34c6e064c5c752efd8e36e9590b8949eb6e1ed7f4079887af604d1ef2ca16843",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "ed89289a4b29d4a9253c07663fb898ae9faff4693ad0b643af39824810d23ec0"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "139a62745ce032a30eec23a5054f36a7cbe1f97fb3fe6a7f7b1a2333a5c5f84b"


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
