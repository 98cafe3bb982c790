#!/usr/bin/env python
"""Peak summed memory of a group of processes: how much a test step needs (issue 19 §5).

    python bench/suite_memory.py MARK -- COMMAND...

Runs COMMAND and, once a second while it runs, sums the resident set (VmRSS) of every process
whose command line contains MARK (e.g. the checkout's path, which every pytest-xdist worker's
interpreter path holds); prints the peak, when it happened and over how many processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def summed_rss_kb(mark: str) -> tuple[int, int]:
    """(KB, processes) over /proc's processes whose command line contains ``mark``."""
    total = count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if mark.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total, count = total + int(line.split()[1]), count + 1
        except OSError:  # the process ended meanwhile
            continue
    return total, count


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    mark, command = argv[0], argv[2:]
    child = subprocess.Popen(command)
    peak, at, procs = 0, "", 0
    while child.poll() is None:
        kb, n = summed_rss_kb(mark)
        if kb > peak:
            peak, at, procs = kb, time.strftime("%H:%M:%S"), n
        time.sleep(1)
    print(f"peak {peak / 1024:,.0f} MiB at {at} over {procs} processes; exit {child.returncode}")
    return child.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
