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
#: image ID (the machine verifying key's circuit digest) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "c1da609b70b81120376a3514dff55ec4734f2a7b26e8d33076b1f851d636448d",
    "ed25519-verify.elf": "b50ad5f047c5084de9ed53acdb6651b85f395f951d4abcdd6027f77218b18104",
    "fibonacci.elf": "d0b6d55d545ecf5a2c86c14120da5972d55ce94ae6aa288928bd39c7433d54b5",
    "isqrt-hint.elf": "2a5cb96ffd255fa0517d0447ead7eccd300f29421f846a2310d2a0b211da0f5c",
    "keccak256.elf": "e0218010b1c4eeafd54020065a63ad45828f7cbbc9c56ba2b677a225cddfb2c7",
    "panic.elf": "3cb441690d0c7ea7fdf54caab9d728ce498e0775d9e32e365931bb93be212031",
    "precompiles.elf": "048fd558070dbcd0f85145673a7b761ac3e4c7022e8a6dce702841d306f4dcac",
    "rv32im-selftest.elf": "228ae2cf885918040b3897883c47115806ac32a3534832faa677f39060a5b0bc",
    "sha256.elf": "8501e6eafd3be684d871d1097443f873b5f6a1608cfacc79baa733136d97fb7d",
    "sort.elf": "bf5dc0e2801e1cc69769114b57a8fc84536053d49ed24df76f16b14f840b147d",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "ba69270907ead8a25a3ace34b6fa882b5b46c2caa96354d6d7aaf7fb1f6716c9",
    "risc0/panic.elf": "82338a21e87dbd8f8e410f8c87f5a1f758f025178b0d7c0b8e554d456580e991",
    "risc0/rv32im-selftest.elf": "000206c062da53d9985be69dc1bdd585d554b0df8bc477cf5a636c40acfd7737",
    "risc0/sha256.elf": "4c3acba17b3b05e1b21c7ce48e0246ba3da6cefdc8122424abba4dda6d6f4af4",
    "risc0/sort.elf": "ddfe7c7691c1a3fe31f4673c581d259db0b1392d908d01b6fab8b60805307ada",
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
