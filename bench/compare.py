#!/usr/bin/env python
"""Compare pyzkvm's backends on the fibonacci guest: the same code and options as `pyzkvm bench`.

    python bench/compare.py            # full run, writes bench/results/compare.{json,md,png}
    python bench/compare.py --quick    # the seconds-long CI version
    python bench/compare.py --help

Every time is also given as a ratio to the trace backend measured in the same run.
"""

import sys

from pyzkvm.cli import main

#: This script records: without --out it writes the committed results (pyzkvm bench does not).
RESULTS = ["--out", "bench/results"]

if __name__ == "__main__":
    args = sys.argv[1:]
    given = any(a == "--out" or a.startswith("--out=") for a in args)
    sys.exit(main(["bench", *args, *([] if given or "-h" in args or "--help" in args else RESULTS)]))
