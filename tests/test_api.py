"""The library API re-exported from ``pyzkvm``, and the README example run exactly as written."""

from __future__ import annotations

import contextlib
import importlib.machinery
import io
import os
import re
import struct
import subprocess
import sys
import types
from pathlib import Path

import pytest

import pyzkvm
from pyzkvm.backends import Availability, Backend, default_backend_name
from pyzkvm.errors import ReceiptFormatError, UsageError, VerificationError
from pyzkvm.receipt import Claim, Receipt
from tests.command_env import with_run_memo

ROOT = Path(__file__).resolve().parent.parent
FIB_ELF = ROOT / "guests" / "bin" / "fibonacci.elf"
README = ROOT / "README.md"


def test_public_names_are_exported():
    for name in ("Program", "execute", "prove", "verify", "Receipt", "Claim", "get_backend", "list_backends"):
        assert name in pyzkvm.__all__ and callable(getattr(pyzkvm, name)), name
    assert pyzkvm.Receipt is Receipt and pyzkvm.Claim is Claim
    with pytest.raises(AttributeError):
        pyzkvm.no_such_name  # noqa: B018


@pytest.fixture(scope="module")
def fib():
    return pyzkvm.Program.from_elf(FIB_ELF)


def quiet_verify(*args, **kwargs):
    with contextlib.redirect_stderr(io.StringIO()):
        return pyzkvm.verify(*args, **kwargs)


def test_prove_defaults_to_the_default_backend(fib):
    # the test preset: what is checked is the backend chosen (the DEFAULT preset's proof is
    # test_readme_example_runs_as_written's and tests/test_stark_backend.py's)
    receipt = pyzkvm.prove(fib, [struct.pack("<I", 3)], preset="insecure_fast_for_tests")
    assert receipt.backend == default_backend_name()


def test_execute_is_reexported_and_accepts_a_path(fib):
    run = pyzkvm.execute(str(FIB_ELF), [struct.pack("<I", 5)])
    assert run.exit_code == 0 and run.journal == struct.pack("<IQ", 5, 5)


def test_verify_accepts_bytes_hex_and_program(fib):
    receipt = pyzkvm.prove(fib, [struct.pack("<I", 7)], backend="trace")
    for image_id in (fib.image_id, fib.image_id.hex(), "0x" + fib.image_id.hex(), fib):
        assert quiet_verify(receipt.to_bytes(), image_id, dev_mode=True) == receipt.claim


@pytest.mark.parametrize(
    "image_id, match", [("zz" * 32, "not hex"), ("ab" * 31, "31 bytes"), (b"\x00" * 33, "33 bytes"), (7, "int")]
)
def test_verify_rejects_malformed_image_ids(image_id, match):
    r = Receipt(Claim.for_execution(bytes(32), b"", 0, 0), b"", "trace", "0", {}, b"")
    with pytest.raises(UsageError, match=match):
        pyzkvm.verify(r, image_id)


def test_verify_rejects_corrupt_bytes_and_non_receipts():
    with pytest.raises(ReceiptFormatError):
        pyzkvm.verify(b"PYZKVMR\x00\x01\x00", bytes(32))
    with pytest.raises(UsageError, match="Receipt"):
        pyzkvm.verify("a string", bytes(32))


def test_verify_checks_the_journal_for_every_backend():
    claim = Claim.for_execution(bytes(32), b"real", 0, 0)
    r = Receipt(claim, b"fake", "stark", "0", {}, b"")
    with pytest.raises(VerificationError, match="journal does not match"):
        pyzkvm.verify(r, bytes(32))


def test_verify_of_an_unknown_backend_is_a_verification_error():
    r = Receipt(Claim.for_execution(bytes(32), b"", 0, 0), b"", "nonesuch", "0", {}, b"")
    with pytest.raises(VerificationError, match="'nonesuch', which is not installed"):
        pyzkvm.verify(r, bytes(32))


@pytest.mark.parametrize("inputs, match", [(b"abc", "list of byte strings"), ([10], "input element 0 is int"),
                                           (10, r"list of byte strings .*\(int\)")])
def test_prove_rejects_unencoded_inputs(inputs, match):
    program = pyzkvm.Program.from_elf(FIB_ELF)
    with pytest.raises(UsageError, match=match):
        pyzkvm.prove(program, inputs, backend="trace")


def test_prove_rejects_an_unknown_backend():
    with pytest.raises(UsageError, match="unknown backend 'nope'"):
        pyzkvm.prove(pyzkvm.Program.from_elf(FIB_ELF), [], backend="nope")


def test_default_backend_switches_to_stark_when_it_is_available(monkeypatch):
    """A stand-in pyzkvm.backends.stark module that reports itself available becomes the default."""

    class FakeStark(Backend):
        name = "stark"

        def availability(self):
            return Availability(True)

        def prove(self, program, inputs=(), *, progress=None, **options):
            raise NotImplementedError

        def verify(self, receipt, image_id, **options):
            raise NotImplementedError

    module = types.ModuleType("pyzkvm.backends.stark")
    module.__spec__ = importlib.machinery.ModuleSpec("pyzkvm.backends.stark", loader=None)
    module.StarkBackend = FakeStark
    monkeypatch.setitem(sys.modules, "pyzkvm.backends.stark", module)
    assert default_backend_name() == "stark"

    class UnavailableStark(FakeStark):
        def availability(self):
            return Availability(False, "missing")

    module.StarkBackend = UnavailableStark
    assert default_backend_name() == "trace"


def test_readme_example_runs_as_written(tmp_path):
    """Extract the ```python block from README.md and run it unchanged."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1
    code = blocks[0]
    assert len(code.strip().splitlines()) == 5
    env = with_run_memo(dict(os.environ))
    env.pop("PYZKVM_DEV_MODE", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    exit_code, journal, bits = out.stdout.split()
    assert (exit_code, journal) == ("0", struct.pack("<IQ", 10, 55).hex())
    assert float(bits) >= 100  # the verifier's estimate for a real proof at the default preset
