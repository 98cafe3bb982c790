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
MACHINE_AIR_DIGEST = "88a1df5b064826272b198c74349908e14ee7dc00fd83c0d67828da253773fa94"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "43fc2edd006e9903291ca6f7d733405f12fef9836c9c0d1e05d20c1689bd6912",
    "ed25519-verify.elf": "7a0ca5207a1bad080d71219c5e52b414b2334090dfe62fc2760dbc0bd7dc458e",
    "fibonacci.elf": "f62bf2cc5828892477d55a47a04668eca903516e8b3cb89086de6831a9a5f172",
    "isqrt-hint.elf": "f679e1c65db1b31d6da7bde90348c44f5091e927a086e729343e69819afbd889",
    "keccak256.elf": "2c3e3125f1aabc6759a29600dde47534ebe8abb4a1454c608ec9981a62225cd0",
    "panic.elf": "c424a150a7608248f0f76a24439e4f6e2fe31faf0b97043bd4f1598b741e7fba",
    "precompiles.elf": "790c506bf0b6cdee05b51379d20bba0b9875b6cbfb7befdaf4b6618e376ed59d",
    "rv32im-selftest.elf": "8bbcb226ab1739a45a96d0395d8927adf51cb72b8cf3fb7ea6c094ac707f0644",
    "sha256.elf": "1fa1e8b21287eb85fe93fff261b2c0574c0b0a562190d746f559fa0909b97ded",
    "sort.elf": "3555567491d2f96a348bea37d01e3d3b9b90cdabab5a29c5ea14ca340c214f44",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "89ee35b7712f03189bbf7242f7c7af381c6249204ce7fa0e8598dfc65ccba3c9",
    "risc0/panic.elf": "1fc0d318f17f3c128be9671c5a896b48cd4d0be80a5462a2e8509451eead4ab3",
    "risc0/rv32im-selftest.elf": "5eb3bf909c4bcc9c397f4526e3324f2ad4948a09c6bf30b6e18efd4b14b475d1",
    "risc0/sha256.elf": "4eccf067dab7bd292a1a8c0e26ed16fcf50eb1c4aa6e9785d7a316b02089a7ea",
    "risc0/sort.elf": "b22914e0ba1c6477a2b31e3d63aab1a747fd09bc76f4daa331f62245afc1e3d9",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "ed89289a4b29d4a9253c07663fb898ae9faff4693ad0b643af39824810d23ec0"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "2442c67b98e0ee97676fd2705b3320d0b5d6f1a70ed7baff7dbe6fa31099f41a"


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
