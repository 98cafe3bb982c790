"""A third-party backend registered through the ``pyzkvm.backends`` entry point is found and used.

The plug-in lives in tests/plugin_pkg: a package plus a ``pyzkvm_testplugin-0.0.dist-info``
directory whose entry_points.txt importlib.metadata reads once the folder is on sys.path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pyzkvm
from pyzkvm.backends import backend_statuses, get_backend, list_backends
from pyzkvm.errors import BackendError, DevModeReceiptError, UsageError, VerificationError
from pyzkvm.receipt import Receipt

HERE = Path(__file__).parent
PLUGIN_DIR = HERE / "plugin_pkg"
ROOT = HERE.parent


@pytest.fixture
def plugin_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    yield
    for mod in [m for m in sys.modules if m.startswith("pyzkvm_testplugin")]:
        del sys.modules[mod]


@pytest.fixture
def program():
    from pyzkvm.program import Segment

    # A two-word image is enough: the echo backend never executes it.
    return pyzkvm.Program(entry=0x1000, segments=(Segment(0x1000, bytes(8), 5),), name="toy")


def test_plugin_is_unknown_without_its_dist_info():
    assert "testplugin-echo" not in list_backends()
    with pytest.raises(UsageError, match="unknown backend 'testplugin-echo'"):
        get_backend("testplugin-echo")


def test_plugin_is_listed_after_the_builtins(plugin_path):
    names = list_backends()
    assert names[:4] == ["trace", "stark", "risc0", "sp1"]
    assert {"testplugin-echo", "testplugin-lazydev", "testplugin-broken"} <= set(names[4:])
    statuses = {s.name: s for s in backend_statuses()}
    assert statuses["testplugin-echo"].availability.available
    assert statuses["testplugin-echo"].availability.version == "0.0"
    broken = statuses["testplugin-broken"]
    assert not broken.availability.available and "could not be loaded" in broken.availability.reason


def test_prove_and_verify_through_the_plugin(plugin_path, program):
    from pyzkvm_testplugin import EchoBackend

    EchoBackend.calls.clear()
    steps = []
    receipt = pyzkvm.prove(program, [b"ab", b"cd"], backend="testplugin-echo", progress=lambda s, f: steps.append(s))
    assert receipt.backend == "testplugin-echo" and receipt.journal == b"abcd"
    assert steps == ["echo"]
    again = Receipt.from_bytes(receipt.to_bytes())
    assert pyzkvm.verify(again, program.image_id) == receipt.claim
    assert [c[0] for c in EchoBackend.calls] == ["prove", "verify"]
    # The plug-in's own check runs: a receipt with a forged seal fails in the plug-in.
    forged = Receipt(receipt.claim, receipt.journal, receipt.backend, "0.0", receipt.params, bytes(32))
    with pytest.raises(VerificationError, match="testplugin-echo: seal"):
        pyzkvm.verify(forged, program.image_id)
    # The generic checks run before the plug-in: wrong image ID.
    with pytest.raises(VerificationError, match="image ID mismatch"):
        pyzkvm.verify(receipt, bytes(32))


def test_a_dev_mode_plugin_that_forgets_to_gate_is_gated_by_pyzkvm_verify(plugin_path, program, monkeypatch):
    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)
    receipt = pyzkvm.prove(program, [b"x"], backend="testplugin-lazydev")
    with pytest.raises(DevModeReceiptError, match="PYZKVM_DEV_MODE=1"):
        pyzkvm.verify(receipt, program.image_id)
    pyzkvm.verify(receipt, program.image_id, dev_mode=True)


def test_a_broken_plugin_is_a_backend_error(plugin_path, program):
    with pytest.raises(BackendError, match="testplugin-broken"):
        pyzkvm.prove(program, [], backend="testplugin-broken")


def test_cli_lists_the_plugin(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(PLUGIN_DIR))
    out = subprocess.run(
        [sys.executable, "-m", "pyzkvm", "backends", "--json"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    rows = {b["name"]: b for b in json.loads(out.stdout)["backends"]}
    assert rows["testplugin-echo"]["available"] is True
    assert rows["testplugin-lazydev"]["produces_proofs"] is False
    assert rows["testplugin-broken"]["available"] is False
