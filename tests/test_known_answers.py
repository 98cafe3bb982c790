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
MACHINE_AIR_DIGEST = "bd58bbe4618c40bba924d92c991f5e83429f3448faa6aeeb0d9be98b62ad6ffe"
#: image ID (v3: the machine verifying key's circuit digests at blowups 4, 8, 16) of each prebuilt sp1-profile guest
IMAGE_IDS = {
    "aggregator.elf": "21acb81ac0c21f09b3bd3e0884e56eb937b92f638a61939e7b110523276532a1",
    "ed25519-verify.elf": "14a71a779c231ce30d170a5e331170363a756615ad1ee27dac06803048fb7d63",
    "fibonacci.elf": "ebfcdc9c1ca7032935d5eb504619c685221d48ef4f8ec641e46bc8d8206322e8",
    "isqrt-hint.elf": "6ec656e1826c64285367edb585355cbe07ed5181e84df872c477cdb51a2949c6",
    "keccak256.elf": "568bf36db7a78d683727e14929bd529eb3a6a17a51727b4902e6609ed2e39744",
    "panic.elf": "c85ee4c7724b9e8554919b7f0fdae48068cf34e456df89c196ad44b8ecf84b86",
    "precompiles.elf": "da6e56ed0dc6b9794e48b250e85533e84f1e3ed30fd462e3d26a334b5cb4e97f",
    "rv32im-selftest.elf": "5b18f7f7c331357ef23f563e47c4fa741100678926c3ed549d5c6d844c2171d1",
    "sha256.elf": "bc891156949c7bd2e15671f0cb25f97c85c4a7f361275ebdcfb3aa855b089abf",
    "sort.elf": "64a5bc1fdd1b4eaebc0f19573aea85010bdd3544223c9bebba325eee58c1f635",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "b75518ab19e9978f783b4b0094858fa79c0b4bd7c4835089958278bcb901efb4",
    "risc0/panic.elf": "947297c347882b3d183d36cbe39cb1eafe76e5c112977c28aed1c824c418562f",
    "risc0/rv32im-selftest.elf": "052807fec31312ea08255040a1210fb204134d3d0502db6f15f231876fc140b6",
    "risc0/sha256.elf": "e7191b1959c0da9a20753e1062689b3dc53db7b06f38223575dceec88e173df8",
    "risc0/sort.elf": "62058b77b65a4cd60138c0a32844364e415e77b36b5ec43b5078f99b25a66c26",
}
#: BLAKE3 of the proof bytes of the Fibonacci toy AIR (stark/examples) at INSECURE_FAST_FOR_TESTS
FIBONACCI_TOY_PROOF = "80792c4cdd96814f3c02f14fd38563aef61c1f33df90bf114117659a9c43cbd1"
#: BLAKE3 of the proof bytes of a tiny machine run (machine_proof below)
MACHINE_PROOF = "2c760c92abc3a882476a3222f9e30f07e70fbccb812076d35b3d27c0b1f2af62"


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
