"""The precompile rows of bench/stark_prove.py (``--hash``): SHA-256 bytes/s and Keccak-f
permutations/s proved, each beside the same guest doing the hash in software, in one run.

    python bench/stark_prove.py --hash                       # SHA-256 of 2 KB, Keccak-256 of 1 359 B (10 permutations)
    python bench/stark_prove.py --hash --sha-bytes 1024 65536 --keccak-bytes --variants precompile

The guests are guests/bin/sha256.elf and keccak256.elf; their second input, u32 1, makes them
hash in software (the SDK's pyzkvm_sha256_software; guests/keccak256/software.c) instead of
with the ecalls, so both variants run the same ELF on the same random message. The software
sha256 variant leaves the SHA chips out of its proof altogether: the SDK's journal digest runs
in software too until a block has gone to the chips (docs/guests.md). Per row one fresh subprocess (numba kernels warmed up by a small
fibonacci proof first): the proof's wall and CPU time (process CPU, all threads: the numba
threads are not this thread), cycles, proof size, peak RSS, the load average at its start; the
journal is checked against hashlib (SHA-256) or the other variant's (Keccak-256).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KECCAK_RATE = 136  # bytes absorbed per Keccak-f[1600] in Keccak-256


def units(guest: str, length: int) -> int:
    """The work in a message: bytes for SHA-256, permutations for Keccak-256 (one per full
    136-byte block, and one for the padded last block)."""
    return length if guest == "sha256" else length // KECCAK_RATE + 1


def worker(guest: str, length: int, software: bool, preset: str) -> dict:
    """One stark proof of ``guest`` on a random message of ``length`` bytes, in this (fresh) process."""
    import hashlib
    import resource

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from prove_profile import cpu_s

    from pyzkvm import Program
    from pyzkvm.backends import get_backend

    b = get_backend("stark")
    b.prove(Program.from_elf(ROOT / "guests" / "bin" / "fibonacci.elf"), [(10).to_bytes(4, "little")], preset=preset)
    prog = Program.from_elf(ROOT / "guests" / "bin" / f"{guest}.elf")
    msg = random.Random(length).randbytes(length)
    load = os.getloadavg()[0]
    c0, t0 = cpu_s(), time.perf_counter()
    receipt = b.prove(prog, [msg, int(software).to_bytes(4, "little")], preset=preset)
    prove_s, cpu = time.perf_counter() - t0, cpu_s() - c0
    if guest == "sha256" and receipt.journal != hashlib.sha256(msg).digest():
        raise AssertionError("the sha256 guest's journal is not hashlib.sha256 of the message")
    return {"guest": guest, "variant": "software" if software else "precompile", "bytes": length,
            "units": units(guest, length), "cycles": receipt.claim.cycles, "load": load, "prove_s": prove_s,
            "cpu_s": cpu, "proof_bytes": len(receipt.seal), "journal": receipt.journal.hex(),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(guest: str, length: int, variant: str, preset: str, code: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "stark_prove.py"), "--hash-worker", guest, str(length),
           str(int(variant == "software")), preset]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(code), *filter(None, [os.environ.get("PYTHONPATH")])]))
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        return {"guest": guest, "variant": variant, "bytes": length, "error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(sha_bytes, keccak_bytes, variants, preset: str, code: Path) -> list:
    results = []
    for guest, sizes in (("sha256", sha_bytes), ("keccak256", keccak_bytes)):
        for length in sizes:
            for variant in variants:
                r = run(guest, length, variant, preset, code)
                print(json.dumps(r), flush=True)
                results.append(r)
    return results


def table(results: list, meta: dict) -> list:
    """Markdown lines: one row per proof, the precompile's CPU-time speed-up over software."""
    unit = {"sha256": "bytes", "keccak256": "permutations"}
    soft = {(r["guest"], r["bytes"]): r for r in results if r.get("variant") == "software" and "error" not in r}
    lines = [f"# stark backend: hashing proved with the precompiles vs in software ({meta['date']})", "",
             f"preset `{meta['preset']}`; command `{meta['command']}`; {meta['cpus']} CPUs, {meta['cpu']}, shared (load = the "
             "1-minute load average at the row's start); CPU = process CPU time of the proof, all threads.", "",
             "| guest | variant | message (B) | work | cycles | load | prove (s) | CPU (s) | work/s | work/CPU-s "
             "| proof (KB) | peak RSS (MB) | CPU vs software |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['guest']} | {r['variant']} | {r['bytes']} | error: {r['error']} | | | | | | | | | |")
            continue
        base = soft.get((r["guest"], r["bytes"]))
        ratio = f"{base['cpu_s'] / r['cpu_s']:.1f}× less" if base and r["variant"] == "precompile" else ""
        if base and base["journal"] != r["journal"]:
            ratio = "JOURNALS DIFFER"
        lines.append(f"| {r['guest']} | {r['variant']} | {r['bytes']} | {r['units']} {unit[r['guest']]} | {r['cycles']} | "
                     f"{r['load']:.1f} | {r['prove_s']:.1f} | {r['cpu_s']:.1f} | {r['units'] / r['prove_s']:.1f} | "
                     f"{r['units'] / r['cpu_s']:.1f} | {r['proof_bytes'] / 1024:.1f} | {r['peak_rss_mb']:.0f} | {ratio} |")
    return lines
