#!/usr/bin/env python
"""What a large zero-filled segment (.bss) costs each command (issue 20, item 6).

    python bench/bss_cost.py [--mib 0 1 4 15] [--out bench/results/bss_cost.md]

For each size, a hand-assembled guest (one HALT, plus a PT_LOAD segment with p_filesz = 0 and
p_memsz = N MiB) is run through `pyzkvm run` and `pyzkvm info` as fresh subprocesses. Each
child reports its own peak RSS (VmHWM, tests/peak_memory.py) and the CPU time it used (user +
system, all threads, from os.wait4). `run` executes the guest; `info` computes the image ID,
which commits one row per image word, zero-fill included, to the machine's preprocessed
columns: the same work `prove` and `verify --elf` do before anything else.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.peak_memory import LAUNCHER, peak_mib, with_peak_file  # noqa: E402
from tests.rvasm import TEXT_BASE, elf, flatten, halt  # noqa: E402

MiB = 1 << 20
BSS_BASE = 0x00400000


def bss_guest(path: Path, mib: int) -> Path:
    """HALT(0), with a zero-filled writable segment of ``mib`` MiB."""
    code = b"".join(word.to_bytes(4, "little") for word in flatten([halt(0)]))
    segments = [(TEXT_BASE, code, 5, None)] + ([(BSS_BASE, b"", 6, mib * MiB)] if mib else [])
    path.write_bytes(elf([], segments=segments))
    return path


def measure(command: str, guest: Path, work: Path) -> dict:
    """CPU seconds, wall seconds and peak MiB of ``pyzkvm COMMAND GUEST`` in a fresh process."""
    peak_file = work / "peak"
    env = with_peak_file({**os.environ, "PYTHONPATH": str(ROOT)}, peak_file)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, "-m", "pyzkvm", command, str(guest)], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"pyzkvm {command} {guest} failed: {proc.stderr.read().decode(errors='replace')}")
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall, "peak_mib": peak_mib(peak_file, usage)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, nargs="+", default=[0, 1, 4, 15], help="zero-fill sizes in MiB (< 16)")
    parser.add_argument("--out", type=Path, help="write the markdown table here as well")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for mib in args.mib:
            guest = bss_guest(work / f"bss{mib}.elf", mib)
            for command in ("run", "info"):
                m = measure(command, guest, work)
                rows.append(f"| {mib} | `{command}` | {m['cpu_s']:.2f} | {m['wall_s']:.2f} | {m['peak_mib']:.0f} |")
                print(rows[-1], flush=True)
    load = os.getloadavg()
    text = "\n".join([
        "# The cost of a zero-filled segment (.bss)",
        "",
        f"`python bench/bss_cost.py --mib {' '.join(map(str, args.mib))}`, "
        f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average {load[0]:.1f} "
        f"on {os.cpu_count()} cores (a shared machine: read the wall times as loaded).",
        "",
        "| .bss MiB | command | CPU s | wall s | peak MiB |",
        "| ---: | --- | ---: | ---: | ---: |",
        *rows,
        "",
    ])
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
