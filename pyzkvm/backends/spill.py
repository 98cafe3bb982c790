"""Temporary-disk spilling of a continuation's tables: between the commit and the prove phases
a run holds one segment's tables in memory, the earlier ones memory-mapped from disk."""

from __future__ import annotations

import os

import numpy as np

#: temporary folders of spilled segment tables are named SPILL_PREFIX + pid + "-" + random (the
#: pid lets a later prove remove the folders of processes that died: fileio.remove_stale_temp_dirs)
SPILL_PREFIX = "pyzkvm-segments-"


def spill_to_disk(traces: dict, directory: str, k: int) -> dict:
    """Write one segment's tables to ``directory`` and return them memory-mapped (read-only):
    between the commit and the prove phases a run holds one segment's tables in memory, not n."""
    out = {}
    for i, (name, table) in enumerate(traces.items()):
        path = os.path.join(directory, f"segment{k}-table{i}.npy")
        np.save(path, table)
        out[name] = np.load(path, mmap_mode="r")
    return out
