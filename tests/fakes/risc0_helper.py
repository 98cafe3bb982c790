"""Fake risc0-helper (pyzkvm/backends/risc0_helper) for tests. See tests/fakes/__init__.py."""
import hashlib
import json
import os
import sys

MODE = os.environ.get("FAKE_RISC0_HELPER_MODE", "ok")
args = sys.argv[1:]


def opt(name):
    return args[args.index(name) + 1] if name in args else None


def load(path):
    data = open(path, "rb").read()
    head = b"FAKE-R0-RECEIPT\n"
    if not data.startswith(head):
        print(f"risc0-helper: error: {path} is not a RISC Zero receipt: io error", file=sys.stderr)
        sys.exit(1)
    return json.loads(data[len(head):])


cmd = args[0] if args else ""
if cmd == "--version":
    print("risc0-helper 0.1.0 (risc0-zkvm 2.3.1)")
elif MODE == "garbage":
    print("Compiling risc0-zkvm v2.3.1 ... done")
elif cmd == "wrap":
    open(opt("--out"), "wb").write(b"R0BF" + open(opt("--elf"), "rb").read())
    print(json.dumps({"wrapped": opt("--out")}))
elif cmd == "inspect":
    r = load(opt("--receipt"))
    print(json.dumps({"journal": r["journal"], "exit_code": r["exit_code"], "halt": r["halt"], "image_id": r["image_id"]}))
elif cmd == "verify":
    r = load(opt("--receipt"))
    mac = hashlib.sha256(bytes.fromhex(r["journal"]) + r["exit_code"].to_bytes(4, "little")
                         + bytes.fromhex(r["image_id"]) + r["halt"].encode()).hexdigest()
    reason = None
    if mac != r["mac"]:
        reason = "Invalid proof"
    elif r["dev"] and os.environ.get("RISC0_DEV_MODE") != "1":
        reason = "Invalid proof: fake receipt outside dev mode"
    elif r["image_id"] != opt("--image-id"):
        reason = f"image ID mismatch: receipt is for {r['image_id']}"
    print(json.dumps({"journal": r["journal"], "exit_code": r["exit_code"], "halt": r["halt"],
                      "image_id": r["image_id"], "verified": reason is None, "reason": reason}))
else:
    print("risc0-helper: error: usage", file=sys.stderr)
    sys.exit(1)
