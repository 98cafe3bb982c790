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
MACHINE_AIR_DIGEST = "91e11ca50393416259bc5624cd2ad79e6268843f7a1ed4cc68d57d6c60370ccb"
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "d6d449b0ed70a50855fdb7cc4948e95904839e897936e8b102237885ba9adfef",
    "ed25519-verify.elf": "d6542e4a881f42176f508c1f28448f635734279dd0f24dc75a3929e3198e62bb",
    "fibonacci.elf": "a78c9610d0122f5c88fd439ab103cc078eed2fc9d3ca6660df6e2fd1c7b3114a",
    "panic.elf": "0ab0304b200e7461e4060e48d6e9bc74a66fcfdc32f908d4fa09ab41bdfe823c",
    "precompiles.elf": "fe356a04035b33c8c4554e9a602d904912bf83ad86da4fe2ea7accb8a3fd1bb7",
    "rv32im-selftest.elf": "b16c2e375fd335ce052edeb20b5971ec8f72666a577c2b4556dbe07440a33b6d",
    "sha256.elf": "06d45010fde4f1fbbf79f9cca04d745f342cd08f142d0dda765925cc1139068e",
    "sort.elf": "a9df5690adc8307dae4522793cbaf049146fcc801c3f06d2356273aee6f7cdb4",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "7fec0e6d3b8b1929f214150b46928d11e23809ba505e61ed9803f334779cab0f"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "027ca8c6839cb4e6d83767c8ede5efabacc1dd43f6af5c8263b85b1313352cf3"


def machine_air_digest() -> str:
    from pyzkvm.machine import machine_airs
    from pyzkvm.stark.air import compile_air
    from pyzkvm.stark.keys import air_digest

    h = blake3.blake3(b"pyzkvm machine AIRs")
    for air in machine_airs():
        h.update(air_digest(compile_air(air)))
    return h.hexdigest()


def image_id(name: str) -> str:
    from pyzkvm.program import Program

    return Program.from_elf(GUESTS / name).image_id.hex()


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


if __name__ == "__main__":
    print(f'MACHINE_AIR_DIGEST = "{machine_air_digest()}"')
    print("IMAGE_IDS = {")
    for name in sorted(p.name for p in GUESTS.glob("*.elf")):
        print(f'    "{name}": "{image_id(name)}",')
    print("}")
    print(f'FIBONACCI_TOY_PROOF = "{fibonacci_toy_proof()}"')
    print(f'MACHINE_PROOF = "{machine_proof()}"')
