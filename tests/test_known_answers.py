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
MACHINE_AIR_DIGEST = "fa69d1525cb9a2253cc5ab395b7cbeee345342c5009b4dfb340d8778fa03bee9"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "b12b07997ecb2d28e3da134485a9858ae96829d53e74eaf97f72eb683a8152d4",
    "ed25519-verify.elf": "c7adabb6f4b58b9a4c843cfe4e079b979cd7df3abea3f350cb6e28e84d97d77f",
    "fibonacci.elf": "322d2ad7d2c014f7f7ce7f1c5c31d8f616595aa54199b48912fba81cd50935ba",
    "isqrt-hint.elf": "240514e2f548aa6d1801662ed1496f0f02fca737722d4f1e55c1aed405f3bc83",
    "keccak256.elf": "df746b4593fe6efd855a029c75d9e96fb0cfa0820f2d9cbedb1698d7f71531f4",
    "panic.elf": "8aa1e540ca093c9add51a26f2e56d67b222c2d6ef7ae38c25067259bb63793f0",
    "precompiles.elf": "c35d55471f787cd59adb3518f8db5c1d7c5a69b6c9b1719b2e2857e41d44aad6",
    "rv32im-selftest.elf": "8231a3c1950af9c355de94d40a5abb00fafa4c246cd2c58d8068cc04e55775a3",
    "sha256.elf": "bccf1b3fb11e0807235dd8e2e02f55e158f0fc9e046c51a53b9cafc6eb743623",
    "sort.elf": "725b3851e6c277359554454032108e70ed12fe0a91c66ba7acf9aeb3cb74ce1a",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "d018d33c05a6976501c616d2e8ee9a0a01b956ddaa4628781b21e5d996e60f47",
    "risc0/panic.elf": "21b4e509573dd20f5af26b5d45d11d5fa26267b6e8d2dea5c2d5f8bf91fa8b56",
    "risc0/rv32im-selftest.elf": "a9877cb05db9b1082439f813d091b06893d7b23d673725322a33ef2e8e87348c",
    "risc0/sha256.elf": "44f6c65f9f24a46bd04e907f05baea133bb5ff1f98e1f61d0ef0a406ae14980e",
    "risc0/sort.elf": "3f9f22874199d9369824ebbd348bd22dedf2ff5f38398c72a90a3a85ce5344de",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "ed89289a4b29d4a9253c07663fb898ae9faff4693ad0b643af39824810d23ec0"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "6780bfb8f4b70014ac5d66e5dc573f667f37a89e93b78a195a2b6825d8ef9381"


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
