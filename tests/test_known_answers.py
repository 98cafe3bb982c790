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
    "aggregator.elf": "307e8d933829c31fb0a48c66e214341933ff4f07d69a5baabbc470a5e797d833",
    "ed25519-verify.elf": "bce91f25e2d3d8276bca26b051b1e905ba2edc3846ad9bb770d4eeaaded9ed60",
    "fibonacci.elf": "9500c264950cd96f918ea1604cf891ac264243fc8e90ee75fb4edf3bf5499ee5",
    "isqrt-hint.elf": "58fb432a990c5dad70ece337a7bd1099a62e89b174b6ad7ef7b5879fe7052865",
    "keccak256.elf": "0d1efbe3b2c26b4cf0bc40f46fefeac25eeb743e90328f621abbb262b62c8fc6",
    "panic.elf": "a4a42c38e8a8a5391c53319659a7330f525f1309d1688b581ec2db6f59842328",
    "precompiles.elf": "6ee1a40293b66daf02d975e93fa7b76e45afb7c085699a4e75cbe6b5b1501ea6",
    "rv32im-selftest.elf": "0019c2193901c09ea6092e3a6eece10ac233a7e7823744c535e4c1968fa0b6d8",
    "sha256.elf": "337c982e604f78d91cf2d53ed929b66a16be4f3faacfef6cec676da9c655c5fd",
    "sort.elf": "ba5d0d96dfa61cd9082a11660535f0fd4cfe3adbdaad51fadd8240f08718b400",
}
#: image ID of each prebuilt risc0-profile guest (the profile is part of it: program_table.py)
RISC0_IMAGE_IDS = {
    "risc0/fibonacci.elf": "16741726fdaac93fa4c5dd38a59e97be33a9a9eb4e0fe1371ffb35f9c8e32536",
    "risc0/panic.elf": "1510bcd3b3fd81525b79497c3702a592ae325dfc9b49104f6f32af4677960398",
    "risc0/rv32im-selftest.elf": "a14efd60f672daf28af36456d0f14652da181ffa8ef9119862978029a7d053af",
    "risc0/sha256.elf": "423b8cdd103cb6e0d678ec554d3c3ee043196060218683209153e96f6163ff5e",
    "risc0/sort.elf": "d56f0338c513e316d17a1847ee854c2c18ba59db38b20d406d09c4ecef0cf76c",
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
