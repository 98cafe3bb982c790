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
MACHINE_AIR_DIGEST = "846ec4f1207db5420cae3589b1092c6e30f66d165e806e466c89a73345b13060"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "89409f575f7806a2a6e52df4f5de134b993de7666e7b16876bd969a2201c563d",
    "ed25519-verify.elf": "cc01b12c96a72dfed4bbaf35896d7ece6277e493705c4d41bf7ba719a7ac60f8",
    "fibonacci.elf": "2b86daf64748e0dbb8f9c80a29f08a50c81a8299a80b6f7cf6b8df3a08107388",
    "isqrt-hint.elf": "3ec24302459cd49ef1896a186379df8aa1ac0f49344b94561403e90110b3c715",
    "keccak256.elf": "e2ded0399eee2abdd1787707a801dad7ae4cc58b58a23df634c7242a1f201990",
    "panic.elf": "49e279f937184d3d2966872a96d53686d896b21a189c9be11798b31d46472288",
    "precompiles.elf": "e1ba81c392c165ab1dc0f4a5ce4604f2d16baceca68f1733b88a2c37a3fe5854",
    "rv32im-selftest.elf": "24e7782cef8fcb76ce5a0a73b8d4d4ae1121c055d25d947c972e9f81d2c84ee7",
    "sha256.elf": "4f3109bb08359d1cad26ca396a017adf10108b693de371d3f6ba4ddf676b9446",
    "sort.elf": "3e37137b1582864da3e2fa45e9d6693a48f3b7ea03c9534aac1a744adf862553",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "97134a9cf175e46291365638d22fd319e9be56d2de649d5c2801a095e14823e6",
    "risc0/panic.elf": "1e34b72cc8577d80152aafbd100117a40b40f8bb76003c8f39d9ae14c156450c",
    "risc0/rv32im-selftest.elf": "933efd88df2f43a3630b7bdc3910736f5f69b0d8e2e706846b9a5c2bd6a94f7b",
    "risc0/sha256.elf": "520a08d84684b8357c983cb6f1d5b3ae4fec2ce3ef59119ebe127d30f2fdaeb3",
    "risc0/sort.elf": "ce813bbf446cbb6dbd834d6b134a38aa8394e202c2a9e9bef81878f72fb383eb",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "ed89289a4b29d4a9253c07663fb898ae9faff4693ad0b643af39824810d23ec0"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "f0c6bc586fafa41eeade31ea7711ba5a70dd3b2fff97562c6309727f04f074b3"


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
