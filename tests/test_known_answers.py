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
MACHINE_AIR_DIGEST = "48120a86fb8a798fd1b0b2488410e2500164e6a028f71f91af79f70a06b10066"
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "6804ec010313576cc8395bbc572f33da3fcfba1de06895b200035bda1727869e",
    "ed25519-verify.elf": "3eb7615dc4d56b54d4cd83c9320cc797e670abe327d883ac59632b54919469b0",
    "fibonacci.elf": "d717ebd09e34738dc8e7481ba2d4c1f8c530a4b025aff66c9e136c9334e9eac8",
    "isqrt-hint.elf": "ac2c516040748c8699b7b3884f698f94eb333794d83f69c7e17321cd2f2594f4",
    "keccak256.elf": "baf8d1bbf5793265c9a6c959381e5f51ae51aeb19dbe188beb0941fa54f90636",
    "panic.elf": "b583326126e1fc4b16e299d6fbe0f4a0ba0674030c304e1d503727e1e4e3fee0",
    "precompiles.elf": "1fad8cbba03633bdd06e43f8bd708417d904e2bcffe887d845cf6d950c84aa4b",
    "rv32im-selftest.elf": "b3234ec2a5aa02837579a25aa7bcb92ed767a0a1105aaca5b1bd1b31461516f2",
    "sha256.elf": "58b90a6cafcfdc2331ffeeda688f80a153b1b51b4dd40448d2460bb0beaf5313",
    "sort.elf": "acb25dd92ec0d5b24e9a300afb74420db62e59dee60f5106e412ca5ca66a3dcc",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "cb8ab6d0194d172286b1a647a936fd14aec38a6b393bcfda11d357eb10c09b11",
    "risc0/panic.elf": "4c20a721b5a2379739942e1c15b8dece748147ff6808eba5f22fb7abae29b5c9",
    "risc0/rv32im-selftest.elf": "e0228d813ed35b328cf9a524c367ccda8386bb354e4b545a14909537cb96ca7f",
    "risc0/sha256.elf": "105d8d34a3335d3064e65a4bff4ff3b3e5202f4c248621261b53e149c1c94973",
    "risc0/sort.elf": "f23ddf18ffe3e8efe4b0a4cbee88dbbd561d9961c838947bc208f392bc0dadcd",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "b13419aaabcd0e13021117da7b2d6d51a72b552832564edacadd8023dfc4bdae"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "46976c86099269a0033a26b3501797ddf0a066edac654b04e2c0a677a867c74a"


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
