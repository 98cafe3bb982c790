"""The CPUs a process may use (pyzkvm/host.py): its affinity, at most its control group's CPU
quota, read from fake /proc and /sys/fs/cgroup trees in the layouts cgroup v2 and v1 use."""

from __future__ import annotations

import os

import pytest

from pyzkvm import host


def _tree(root, files: dict):
    for path, text in files.items():
        f = root / path
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return root


@pytest.fixture
def affinity_8(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)


def test_cgroup_v2_quota_caps_the_affinity(tmp_path, affinity_8):
    root = _tree(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "200000 100000\n"})
    assert host.cgroup_cpu_quota(root) == 2.0
    assert host.cpus_allowed(root) == 2


def test_a_fractional_quota_rounds_down_and_never_below_one(tmp_path, affinity_8):
    root = _tree(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "150000 100000\n"})
    assert host.cpus_allowed(root) == 1
    _tree(tmp_path, {"sys/fs/cgroup/cpu.max": "50000 100000\n"})
    assert host.cpus_allowed(root) == 1


def test_the_smallest_quota_on_the_way_to_the_root_counts(tmp_path, affinity_8):
    # a group's own limit "max", its parent's 3 CPUs, the top 6: 3
    root = _tree(tmp_path, {"proc/self/cgroup": "0::/pods/job\n",
                            "sys/fs/cgroup/pods/job/cpu.max": "max 100000\n",
                            "sys/fs/cgroup/pods/cpu.max": "300000 100000\n",
                            "sys/fs/cgroup/cpu.max": "600000 100000\n"})
    assert host.cpus_allowed(root) == 3


def test_cgroup_v1_quota(tmp_path, affinity_8):
    root = _tree(tmp_path, {"proc/self/cgroup": "4:memory:/x\n3:cpu,cpuacct:/docker/abc\n",
                            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "400000\n",
                            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"})
    assert host.cpus_allowed(root) == 4


def test_no_quota_leaves_the_affinity(tmp_path, affinity_8):
    # v1 unlimited (−1), v2 "max", no cgroup files at all, no /proc: 8 each time
    v1 = _tree(tmp_path / "v1", {"proc/self/cgroup": "1:cpu:/\n", "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
                                 "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"})
    v2 = _tree(tmp_path / "v2", {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n"})
    bare = _tree(tmp_path / "bare", {"proc/self/cgroup": "0::/\n"})
    for root in (v1, v2, bare, tmp_path / "nothing"):
        assert host.cgroup_cpu_quota(root) is None
        assert host.cpus_allowed(root) == 8


def test_a_garbled_file_is_no_quota(tmp_path, affinity_8):
    root = _tree(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "lots 0\n"})
    assert host.cpus_allowed(root) == 8


def test_the_prover_pool_and_the_local_cluster_use_no_more(monkeypatch):
    import numba

    from pyzkvm import dist
    from pyzkvm.stark import pool

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs numba threads ≥ 2")
    monkeypatch.setattr(pool, "usable_cpus", lambda: 1)
    monkeypatch.setattr(pool, "free_cpus", lambda: 4)
    monkeypatch.setattr(dist, "usable_cpus", lambda: 1)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        assert pool.threads() == 1
        assert dist.local_workers(None) == 1
    finally:
        numba.set_num_threads(before)
