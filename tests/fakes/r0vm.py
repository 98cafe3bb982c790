"""Fake r0vm (RISC Zero's CLI, risc0/r0vm/src/lib.rs) for tests. See tests/fakes/__init__.py.

Understands: --version; --elf F --id; --elf F --initial-input I --receipt R --receipt-kind K.
A "ProgramBinary" here is b"R0BF" + the user ELF (what the fake helper's wrap writes).
The receipt file is b"FAKE-R0-RECEIPT\\n" + JSON; its "mac" binds journal, exit code and image
ID so that the fake helper's verify notices a changed seal.
"""
import hashlib
import json
import os
import sys
import time

MODE = os.environ.get("FAKE_R0VM_MODE", "ok")
args = sys.argv[1:]


def opt(name):
    return args[args.index(name) + 1] if name in args else None


if "--version" in args:
    print("r0vm 0.19.1" if MODE == "old" else "r0vm 2.3.1")
    sys.exit(0)

elf_path = opt("--elf")
blob = open(elf_path, "rb").read()
image_id = hashlib.sha256(blob).hexdigest()

if "--id" in args:
    print("this is not an image id" if MODE == "garbage" else image_id)
    sys.exit(0)

if MODE == "crash":
    print("thread 'main' panicked at risc0/r0vm/src/lib.rs:241:55:", file=sys.stderr)
    print("called `Result::unwrap()` on an `Err` value: guest fault at pc 0x00201000", file=sys.stderr)
    sys.exit(101)
if MODE == "hang":
    time.sleep(120)
    sys.exit(0)

if not blob.startswith(b"R0BF"):
    print("thread 'main' panicked: Malformed ProgramBinary", file=sys.stderr)
    sys.exit(101)
from pyzkvm.executor import execute  # noqa: E402
from pyzkvm.program import Program  # noqa: E402

program = Program.from_elf(blob[4:], abi="risc0")
stream = open(opt("--initial-input"), "rb").read()
run = execute(program, [stream] if stream else [])
journal = run.journal + (b"!" if MODE == "tamper" else b"")
dev = os.environ.get("RISC0_DEV_MODE", "") in ("1", "true")
halt = "paused" if run.halt_type == 1 else "halted"  # RISC Zero's GuestExit: Halted(code) / Paused(code)
mac = hashlib.sha256(journal + run.exit_code.to_bytes(4, "little") + bytes.fromhex(image_id) + halt.encode()).hexdigest()
body = {"journal": journal.hex(), "exit_code": run.exit_code, "image_id": image_id, "dev": dev,
        "kind": opt("--receipt-kind"), "mac": mac, "halt": halt}
with open(opt("--receipt"), "wb") as f:
    f.write(b"FAKE-R0-RECEIPT\n" + json.dumps(body).encode())
if os.environ.get("RISC0_INFO"):
    total = 1 << max(16, run.cycles.bit_length())
    stamp = "2026-01-01T00:00:00.000000Z"
    for line in ("number of segments: 1", f"{total} total cycles",
                 f"{run.cycles} user cycles ({100 * run.cycles / total:.2f}%)", "0 paging cycles (0.00%)"):
        print(f"\x1b[2m{stamp}\x1b[0m \x1b[32m INFO\x1b[0m risc0_zkvm::host::server::session: {line}", file=sys.stderr)
