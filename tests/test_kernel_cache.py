"""numba's on-disk cache works for pyzkvm's kernels (``cache=True``): what one process
compiles, the next process loads instead of compiling again. numba fires its
``numba:compile`` event only when it compiles (a cache miss), so each run below lists the
pyzkvm functions it compiled; the first run in an empty cache folder must compile some, the
second none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LISTEN = """
import json
from numba.core import event
compiled = []
class Listener(event.Listener):
    def on_start(self, ev):
        pass
    def on_end(self, ev):
        f = ev.data["dispatcher"].py_func
        compiled.append(f"{f.__module__}.{f.__qualname__}")
event.register("numba:compile", Listener())
"""
REPORT = '\nprint(json.dumps(sorted({c for c in compiled if c.startswith("pyzkvm.")})))\n'

EXT = """
import numpy as np
from pyzkvm.stark import ext
from pyzkvm.stark.field import P
one = np.zeros((4096, 4), dtype=np.uint32)
one[:, 0] = 1
a = np.random.default_rng(1).integers(0, P, size=(4096, 4), dtype=np.int64).astype(np.uint32)
assert (ext.ext_mul(a, one) == a).all()
"""

TAPE = """
import numpy as np
from pyzkvm.machine import machine_airs
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, tape
from pyzkvm.stark.keys import compile_for
c = compile_for(INSECURE_FAST_FOR_TESTS, {a.name: a for a in machine_airs()}["cpu"])
n = 8
ones = lambda *shape: np.ones(shape, dtype=np.uint32)
inputs = tape.Inputs(ones(n, c.air.width), None, ones(n, c.num_aux_columns, 4), ones(256), ones(2, 4), ones(4),
                     ones(n, 3))
tape.run(tape.build_tape(c, [x.expr for x in c.all_constraints]), inputs, n)
"""


def compiled_by(work: str, cache: Path) -> list:
    """The pyzkvm functions numba compiled while a fresh interpreter ran ``work``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), PYZKVM_NO_MEMO="1")
    done = subprocess.run([sys.executable, "-c", LISTEN + work + REPORT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


COUNT_REFRESHES = """
from numba.core import base
refreshes = []
_refresh = base.BaseContext.refresh
def counting(self):
    refreshes.append(1)
    return _refresh(self)
base.BaseContext.refresh = counting
"""


def test_a_second_process_loads_an_extension_field_kernel_from_the_cache(tmp_path):
    first = compiled_by(EXT, tmp_path)
    assert "pyzkvm.stark.ext._mul_kernel" in first and "pyzkvm.stark.ext.mul4" in first  # mul4: an @inner helper
    # the load skips numba's refresh of its registries (_numba_cache.load_without_refresh);
    # the kernel still computes right
    assert compiled_by(COUNT_REFRESHES + EXT + "\nassert not refreshes, len(refreshes)\n", tmp_path) == []


@pytest.mark.slow
def test_a_second_process_loads_the_constraint_tape_kernel_from_the_cache(tmp_path):
    # _run_blocks and the row loops it calls (tape._rows_*): ~7 s of compiling on a cold cache
    first = compiled_by(TAPE, tmp_path)
    assert "pyzkvm.stark.tape._run_blocks" in first and "pyzkvm.stark.tape._rows_mul4" in first
    assert compiled_by(TAPE, tmp_path) == []

