"""Fake sp1-runner (pyzkvm/backends/sp1_runner) for tests. See tests/fakes/__init__.py.

Understands: --version; --elf E --stdin S [--prove K --proof-out P]; --elf E --verify P.
The proof file is JSON; "vk" is SHA-256 of the ELF (SP1 derives its key from the ELF) and
"mac" binds public values and vk so that a changed proof fails verification.
"""
import hashlib
import json
import os
import struct
import sys
import time

MODE = os.environ.get("FAKE_SP1_MODE", "ok")
args = sys.argv[1:]


def opt(name):
    return args[args.index(name) + 1] if name in args else None


if "--version" in args:
    print("sp1-runner 0.1.0 (sp1-sdk circuit v4.1.0)" if MODE == "old" else "sp1-runner 0.1.0 (sp1-sdk circuit v5.0.0)")
    sys.exit(0)
if MODE == "crash":
    print("thread 'main' panicked at crates/core/executor/src/executor.rs:1733:", file=sys.stderr)
    print("sp1-runner: error: execution failed: HaltWithNonZeroExitCode(1)", file=sys.stderr)
    sys.exit(1)
if MODE == "hang":
    time.sleep(120)
    sys.exit(0)
if MODE == "garbage":
    print("\x00\x01 proving... 42% {not json")
    sys.exit(0)

elf = open(opt("--elf"), "rb").read()
vk = hashlib.sha256(elf).hexdigest()
mock = os.environ.get("SP1_PROVER") == "mock"

if opt("--verify"):
    proof = json.load(open(opt("--verify")))
    mac = hashlib.sha256(bytes.fromhex(proof["public_values"]) + bytes.fromhex(proof["vk"])).hexdigest()
    reason = None
    if proof["vk"] != vk:
        reason = "Invalid proof: vkey mismatch"
    elif mac != proof["mac"]:
        reason = "Invalid proof: shard verification failed"
    elif proof["mock"] and not mock:
        reason = "Invalid proof: mock proof"
    print(json.dumps({"public_values": proof["public_values"], "verified": reason is None, "reason": reason,
                      "vk_hash": "0x" + vk, "sp1_version": "v5.0.0"}))
    sys.exit(0)

data = open(opt("--stdin"), "rb").read()
(n,), pos, elements = struct.unpack_from("<Q", data), 8, []
for _ in range(n):
    (length,) = struct.unpack_from("<Q", data, pos)
    elements.append(data[pos + 8 : pos + 8 + length])
    pos += 8 + length
assert pos == len(data), "trailing bytes in stdin file"

from pyzkvm.executor import execute  # noqa: E402
from pyzkvm.program import Program  # noqa: E402

run = execute(Program.from_elf(elf, abi="sp1"), elements)
public_values = run.journal + (b"!" if MODE == "tamper" else b"")
out = {"public_values": public_values.hex(), "cycles": run.cycles, "exit_code": run.exit_code, "proof": None,
       "verified": None, "vk_hash": "0x" + vk, "sp1_version": "v5.0.0"}
if opt("--prove"):
    mac = hashlib.sha256(public_values + bytes.fromhex(vk)).hexdigest()
    json.dump({"public_values": public_values.hex(), "vk": vk, "mac": mac, "mock": mock, "kind": opt("--prove")},
              open(opt("--proof-out"), "w"))
    out["proof"] = opt("--proof-out")
print("2026-01-01T00:00:00Z INFO execute: done")
print(json.dumps(out))
