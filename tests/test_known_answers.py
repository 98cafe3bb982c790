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
MACHINE_AIR_DIGEST = "124465e660f27bf80c747d697b40ed2669fca36eb43f1c93f9b222b26abb2c0f"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "dff5e98e276477e15bd8ef5aa21bfa032009a261bc5f23f83cc39ca2bcf90ba9",
    "ed25519-verify.elf": "13732131644ef6a985e4d91e51b22f6f4a842e937939a0249105e7d1465ab1ea",
    "fibonacci.elf": "9061fbb189fd47987aa48f32aa3a93ed6db6874b7a90bf3c2ce2b25757939496",
    "isqrt-hint.elf": "ce69f73d0e1679cc1d21e1ef5631766db41cc0d96d2687e38da2a51c28e0eaf0",
    "keccak256.elf": "a915828d9f048945406f6977de4190628e49359e5e78cef830cab71bc17cb344",
    "panic.elf": "82394d0abd604b4522be1da2a4c96f8f4e0b83808fd8139c770772e2c69f0b0b",
    "precompiles.elf": "3d14d2dcb76fbd099d6d7fa787db5938ad885f51f590140b7ba2e3049abc17d0",
    "rv32im-selftest.elf": "d1ad8055379556f99ba563c03020a9039cc959a8be6e157a03c8d03da99b743a",
    "sha256.elf": "78482efeea38fa61cd41e4bd62275da85dfbc78e22d485eddf697760e1e4c7cb",
    "sort.elf": "9153ed9bcdd92b4236880f05699a0c674b34516f8339c4411bf82aa6357a5195",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "ddafb26100cdf5075ab7d903e754d47d05f64bba0257210cebc1a5dee371666c",
    "risc0/panic.elf": "a7e612f00a319e97da7793778028f49f79487daa4a9ac9899cb6b0651cd2bf0a",
    "risc0/rv32im-selftest.elf": "3b23c5701f2d07868aca709a6f22c82c84f765ab10d514b76eaf4f0759253a5d",
    "risc0/sha256.elf": "40e7e7e967903c3f69481170cc2396b301beaa139dabf31244b4598eff1e42e4",
    "risc0/sort.elf": "2a2fa253fcad4c18c5c1bf6ca9a1d7ba5ae9dbba740b41e9d3ac8dfb75c8c13c",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "80792c4cdd96814f3c02f14fd38563aef61c1f33df90bf114117659a9c43cbd1"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "63823495d2828435cc19ebdbc45c96747773393da8873c16c3f8806db3ab9073"


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
