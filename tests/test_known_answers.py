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
MACHINE_AIR_DIGEST = "cfaa7bf26c0b5f7a8c9c634cc8db3b2bc23b50add4ed0160eb19db5a3f9a6834"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "b955a185f144080e79310d44910d0b5b31370f7ac23923d697b2edac1b454ece",
    "ed25519-verify.elf": "c6f1fbb49ef5c20b2889232793187c843c273d4ceef5fe1b0dbc3355d6d7a895",
    "fibonacci.elf": "9109e8625b6b6d79d0c92d5b38781fc8fe0f53d3c41b37d458735c54fbc28b4d",
    "isqrt-hint.elf": "53e39c989efe070dcbd87ec62bc20145a07f8159a9fde2d64e41f38f84d20305",
    "keccak256.elf": "c2096841097d56b26a622ebec9600b9b8226f05169647b0f48ca78eb637ddac2",
    "panic.elf": "86ebf4e9f44bbdcc507e3da75229706c5af859cba8520561ea9da7013d3b3287",
    "precompiles.elf": "1d90da48f6202db57dafad7eae55ec67860b345d3aff8c538e9aec0d26354755",
    "rv32im-selftest.elf": "019310489678ec7228f0f8e453638c03be48a52f32996c1d0984794fbc35b8a7",
    "sha256.elf": "c74df5d02a761537ed99b2077d6cc7ace165eccd598f2f33ce3effb53b90988f",
    "sort.elf": "9e7cc5d84fdc9202040369eec3627092d2daf3d826fe5df54eac413810fee1b8",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "6cfaa2b2b7235e1cd5c47411d28d36f74feed37922467f2443e9f6d536c7ad9b",
    "risc0/panic.elf": "0c79370638a47df5ef6c0bd0f09ab60b3026b6dfa32083ad5dd8c1b6df72eb70",
    "risc0/rv32im-selftest.elf": "ae6b729aec412a4a3556685322ca2d9d903d77600412d013678f0b010ddec242",
    "risc0/sha256.elf": "6923bcaca1ca110494f678c478ed5eac5e1a3f7fbac8e967e97ba915f7ab8790",
    "risc0/sort.elf": "7d8560d478aa9c9b9a78abc4c198c37ef35c644ef85dac3203b474b869055deb",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "ed89289a4b29d4a9253c07663fb898ae9faff4693ad0b643af39824810d23ec0"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "e65c12c96f3021c1a9a57dc22de59cfe816fd2d84c5f6d40d56084972de999e2"


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
