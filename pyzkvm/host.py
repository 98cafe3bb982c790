"""The CPUs this process may use: the ones it may run on (its affinity mask), at most the CPU
time its control group allows (a container's ``--cpus``: cgroup v2 ``cpu.max``, v1
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``).

``os.cpu_count()`` counts the machine's CPUs. In a container limited to 2 CPUs' time on a
64-core host it says 64, and a pool of 64 threads (or 64 worker processes) would share 2 CPUs'
time, each stalled whenever the group's quota for the period is spent. The prover's thread
pool (stark/pool.py), local worker clusters (dist.py), the background compile (compile_ahead.py)
and the benchmark's batches size themselves from ``usable_cpus()`` instead.

A quota of q CPU-seconds per second gives floor(q) CPUs, at least 1: a 1.5-CPU quota runs one
thread unthrottled, where two would both wait out a quarter of every period.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path


@functools.cache
def usable_cpus() -> int:
    """The CPUs this process may use (read once): its affinity, at most its cgroup's CPU quota."""
    return cpus_allowed(Path("/"))


def cpus_allowed(root: Path) -> int:
    """usable_cpus() as read under ``root`` (the filesystem root; a test's fake tree)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        cpus = min(cpus, max(1, math.floor(quota)))
    return max(1, cpus)


def cgroup_cpu_quota(root: Path) -> float | None:
    """The CPU time per second this process's control group and its ancestors allow (the
    smallest), or None where none is set or nothing can be read (not Linux, no cgroup fs)."""
    try:
        lines = (root / "proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:  # "0::/path" (v2), "4:cpu,cpuacct:/path" (v1)
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            limits += _limits(root / "sys/fs/cgroup", path, _v2_quota)
        elif "cpu" in controllers.split(","):
            for mount in ("sys/fs/cgroup/cpu", "sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpuacct,cpu"):
                limits += _limits(root / mount, path, _v1_quota)
    return min(limits) if limits else None


def _limits(mount: Path, path: str, read) -> list:
    """The quotas ``read`` finds in the cgroup at ``path`` under ``mount`` and in each of its
    ancestors (a container's own namespace shows its group as "/": the mount's top level)."""
    found = []
    parts = [p for p in path.split("/") if p and p != ".."]
    for depth in range(len(parts), -1, -1):
        quota = read(mount.joinpath(*parts[:depth]))
        if quota is not None:
            found.append(quota)
    return found


def _v2_quota(group: Path) -> float | None:
    # cpu.max: "QUOTA PERIOD" in µs, QUOTA "max" when unlimited
    try:
        quota, period = (group / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _v1_quota(group: Path) -> float | None:
    # cpu.cfs_quota_us (−1 when unlimited) over cpu.cfs_period_us
    try:
        quota = int((group / "cpu.cfs_quota_us").read_text())
        period = int((group / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None
