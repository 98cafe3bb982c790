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
    "aggregator.elf": "5bde2c425cccdf3258ab7514af3004e72cf0db0ecd891817fb940dc0d8bfb606",
    "ed25519-verify.elf": "83d141933d886cd2134faf3cc063ce5d6af0993a39df1e7b2e71d96cbcad8fde",
    "fibonacci.elf": "5985d95be68b7a1be7df2159ccc411761a3e431a3a4fe94a7bbd68eca44bba3e",
    "isqrt-hint.elf": "7dab97c5defcf0e54d1226d3071303111ba89914a7125f749ef9796baf367258",
    "keccak256.elf": "f591606a8f87949e596c8a9af6bb06ad7d9a26a210986d787b7158bfab9d6f31",
    "panic.elf": "c424a150a7608248f0f76a24439e4f6e2fe31faf0b97043bd4f1598b741e7fba",
    "precompiles.elf": "0997858b9f0cf221dd454c680de87e1ab8fcf91d57e085fdab2881b34d0354d4",
    "rv32im-selftest.elf": "5cc5a4e96b7350e92be62323bc4f59d5e99455fe111c6e7285b574cc0c4968e9",
    "sha256.elf": "4f22243dd9c468da0dc2a16e2e35187c922178a8394d264fd1825810aa7e0b38",
    "sort.elf": "6ddd88c8e715cff963eb208462c6d6dc222b1caf4ee3d6266769226799243b73",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "89ee35b7712f03189bbf7242f7c7af381c6249204ce7fa0e8598dfc65ccba3c9",
    "risc0/panic.elf": "1fc0d318f17f3c128be9671c5a896b48cd4d0be80a5462a2e8509451eead4ab3",
    "risc0/rv32im-selftest.elf": "5eb3bf909c4bcc9c397f4526e3324f2ad4948a09c6bf30b6e18efd4b14b475d1",
    "risc0/sha256.elf": "ca27ee191d3ef10eecd3f5a2b4c9049370bd396c4d28caedc7637902a84cc597",
    "risc0/sort.elf": "0625698a6f1627388af3b84f2ba02a3222ab08c905b03115215c2b2e54b399b2",
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
