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
MACHINE_AIR_DIGEST = "b812e3a3938a6e9b9933e393e59bb36bbf70c51f19f0ef4c15d6f7f67d442009"
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "fdfc2958193d061ae75b9ed76b1f62ddb1ff36c3f9353f40d72ee87451ae8cb3",
    "ed25519-verify.elf": "127ea3dd9c318062ceb664f89f889c73230bdb0678c89410c4f04738b27414a0",
    "fibonacci.elf": "e35f2fce7501d42ad18b4ac3da89468af65df93ad2361da199c78381dc7e0647",
    "isqrt-hint.elf": "aa76e7a79002cd5eec68f4f7480abf540b56d4754dcac5cf7013a3c9d8ceeefd",
    "keccak256.elf": "5ff61713d840228317b2caee73e6b3362726d4b472e6b499788ddee54a003672",
    "panic.elf": "13fe651ea4fb649683ad472eccc6cb44f149b04da2dcc367dfd342717ae99ed2",
    "precompiles.elf": "eceadbc8d67dc5fd542a140890cd684512d37aac3ead5a8c177ada74b4dbd176",
    "rv32im-selftest.elf": "7d2d64d2eec19d30bc4e312253a0288d0374cbeb3872d5088f2e380184a12239",
    "sha256.elf": "2dc2bc18616aaabfcfe3ef3416979b50adf684d5314ce20b6342a37b8cadd5a8",
    "sort.elf": "116ce0f73deb014e486e70790d97cf1e94a8b4d3ba827d392c5ffed93c5ebb1a",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "7e0035bcfe4021fb7a34b200d79273cbffab8fa8745b6aa7d1f5f790a1181fe4",
    "risc0/panic.elf": "d621c52cbaeaf8cdaa66ac7927d0f47b03b5fc14c8b3f7dacda309e62bc3b462",
    "risc0/rv32im-selftest.elf": "8d60993cde2d51fd0041ee7594ae19b928b3337eb84de8e70f98f2c47a1b1335",
    "risc0/sha256.elf": "e14cd16f63490f6576c113399cfb4c978910414661103a5556571dd1b51af066",
    "risc0/sort.elf": "edfbb8d2477a0059c6e5022e5f36f460231b5718dbe5cd194f79e8981b6a0fe8",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "52bc3ed154b342fbcba873134f2595a37218f34b0adb6ec1bc4f87baa983db78"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "cec06e27bf66e50e4fa088235d20c4a7a9a0123d62d8b03eaea8c33c523ce150"


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
