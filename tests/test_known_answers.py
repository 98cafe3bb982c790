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
    "aggregator.elf": "85d151f9bc896cce08560e378b1377d22c2a4f397d0cac5bd82a0532bdea5e41",
    "ed25519-verify.elf": "709267bc97c3ee598b5e967ea8f43fd8b8557f0e2e95580f1fc06ba5c82abaaf",
    "fibonacci.elf": "e602b3fabaf4a74442b22adea833eba434b4c49a1d32d29d646f577f84a60e87",
    "isqrt-hint.elf": "f001e4d66140c9009a6097bf912e373566f6459c33ea2c300f2165e892aa7e80",
    "keccak256.elf": "8d0f2652d4a892d6bdbab17c36af1fa2bcabc297bde6858f0ac4b7570f353ccb",
    "panic.elf": "3daa143fc16534174bb8868af20e41cb0392104fa3ca7d3b18c1fafb28a18fa6",
    "precompiles.elf": "4ef2b1b0f2a810580a2f6b269a1e9716d69fe2524e02c0e949903fd8c4593f82",
    "rv32im-selftest.elf": "4b0d21b11ed9e2d7c894ae2eee2adfc848736b341b127e60b3a81e8edea08b3f",
    "sha256.elf": "e4045026503e7eb3ab65c69e7d2d232b7fae262a88b78d9b93e8b9109e888442",
    "sort.elf": "6db83590dcf787fa79b94319895048cd5c5c5225ae8713d2ff87f99d4439ebb0",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "38dcd11b9827dbe90b9b9eaf05838c04ddaf9a25bec1e3d98eaf808b5b5642b1",
    "risc0/panic.elf": "17a26ebc0e0356b97b151556985e046bb33ed3c72179f80b2ac54dc7a30e567c",
    "risc0/rv32im-selftest.elf": "d95658263984cdcedcd059a4e361380cb9bef59536f0af606aee2c9d7cc07621",
    "risc0/sha256.elf": "a3a31e2f73feb72c21e2d89cfc30ca194aa938324ac652f4093100b99ffdb960",
    "risc0/sort.elf": "45e47dec62864640507adda0ec05d3324167e1d1cd73eb4db818a27136b6b112",
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
