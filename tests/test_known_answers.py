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
    "aggregator.elf": "e0d1531c48eaa643a335bd3b895ebd566ca6052d1794b4c25a3b28e5545ca7f7",
    "ed25519-verify.elf": "253669f6aaa8bd290835ec34aa7124f370e40c9e6b280ddec8ef1f39fd56a13f",
    "fibonacci.elf": "7a360863d5b28a918454bbaeee0d676ef66ef8b44a4e1f32bfab88f703f55b31",
    "isqrt-hint.elf": "4f5b6aa61bc0de456401ad0756ccfda424db8639cef3018cee93624d5ef51865",
    "keccak256.elf": "33a36720467cbc1a4e2ee7c2e5ce0331b56eed0e51e210250b4574cdb4d2d452",
    "panic.elf": "b12109c2877bd698e1a3b154d73f45dd65b79490c984fa8b0ce1675c6b8f2c47",
    "precompiles.elf": "f5d8e84f2a5fdbf30be75c2a48524c7a211980733e8341a19cefc8e36e28f499",
    "rv32im-selftest.elf": "4ba6f698f3c7d814dc8f6e4fa02cf8519166738732db94316013b5c180468e31",
    "sha256.elf": "9e5238c223a5f14ffdf55ce77f136b43f2da2098464e19a7418f83906dfcfe5a",
    "sort.elf": "53a4c60a310a782ee1d575c726a78ec7b0f869714ae87341c4f804a29f88b62c",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "b038d7fc020fc7413c0512c4c573145cb6b956e321a265fbb0aa027e0c822960",
    "risc0/panic.elf": "5e17c9344274f87add869bcb21b61b9922a8b6a4873aa6567b15901d718e1c79",
    "risc0/rv32im-selftest.elf": "60015addc1ec1257484c99734071a778179fac4e24ab7d3a6baf3164691aef03",
    "risc0/sha256.elf": "8c2cf09939346101415ec95af2c7a2be3c71dfdb5bbd88036eceb3d1c92e8ca7",
    "risc0/sort.elf": "8382534288ebd04ad624bc3b14b67617d480bd8f5a78f2d170c3e64685081390",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "b13419aaabcd0e13021117da7b2d6d51a72b552832564edacadd8023dfc4bdae"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "04a88a533fd1ff9f3f0a93c354b420f03bb20d947064aaf51e85b5c49489ad46"


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
