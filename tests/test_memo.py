"""The memo of code-derived values (pyzkvm/memo.py) and its two users: image IDs and the
optional-table check. Each test points PYZKVM_MEMO_DIR at a temporary folder (the numba cache
stays where it is: warm)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyzkvm import memo

ROOT = Path(__file__).resolve().parents[1]
FIB = ROOT / "guests" / "bin" / "fibonacci.elf"


@pytest.fixture
def memo_on(tmp_path, monkeypatch):
    monkeypatch.delenv(memo.NO_MEMO_ENV, raising=False)
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(tmp_path))
    return tmp_path


def test_put_then_get_and_nothing_else(memo_on):
    assert memo.get("ns", b"k") is None
    memo.put("ns", b"k", b"value")
    assert memo.get("ns", b"k") == b"value"
    assert memo.get("ns", b"other key") is None and memo.get("other-ns", b"k") is None
    # stored under this code's fingerprint
    assert (memo_on / memo.code_fingerprint()).is_dir()


def test_another_code_version_sees_an_empty_memo(memo_on, monkeypatch):
    memo.put("ns", b"k", b"value")
    monkeypatch.setattr(memo, "code_fingerprint", lambda: "0" * 32)
    assert memo.get("ns", b"k") is None


def test_the_fingerprint_changes_when_a_source_file_changes(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(memo, "PACKAGE", pkg)
    memo.code_fingerprint.cache_clear()
    try:
        before = memo.code_fingerprint()
        (pkg / "a.py").write_text("x = 22\n")
        memo.code_fingerprint.cache_clear()
        assert memo.code_fingerprint() != before
    finally:
        memo.code_fingerprint.cache_clear()


def test_the_fingerprint_reads_contents_not_sizes_and_times(tmp_path, monkeypatch):
    """Two versions whose files have the same sizes and modification times (a packager that
    normalises times, an edit that keeps them) must not share a memo: a receipt one version
    wrongly accepted, through a value it stored, would pass the other (red-team, session 25)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("exit_code = a0\n")
    os.utime(pkg / "a.py", ns=(10**18, 10**18))
    monkeypatch.setattr(memo, "PACKAGE", pkg)
    memo.code_fingerprint.cache_clear()
    try:
        before = memo.code_fingerprint()
        (pkg / "a.py").write_text("exit_code = 07\n")  # the same size
        os.utime(pkg / "a.py", ns=(10**18, 10**18))  # and time
        memo.code_fingerprint.cache_clear()
        assert memo.code_fingerprint() != before
    finally:
        memo.code_fingerprint.cache_clear()


def test_a_process_with_a_patched_chip_stores_no_circuit_value(memo_on, monkeypatch):
    """A chip whose constraints were replaced at run time computes another circuit under the
    same code fingerprint: its image IDs and circuit digests stay in the process (the memo
    serves every later process of this code, which would report them)."""
    from pyzkvm.machine import image_id as machine_ids
    from pyzkvm.machine.cpu import CpuAir
    from pyzkvm.machine.tables import chips_are_pyzkvms
    from pyzkvm.program import Program

    original = CpuAir.constraints

    def patched(self, b):  # one more (harmless) constraint: another circuit digest
        original(self, b)
        b.assert_zero(b.main(0) * 0, "a patched constraint")

    monkeypatch.setattr(machine_ids, "_IDS", {})
    monkeypatch.setattr(machine_ids, "_DIGESTS", {})
    monkeypatch.setattr(CpuAir, "constraints", patched)
    assert not chips_are_pyzkvms()
    machine_ids.machine_image_id(Program.from_elf(FIB))
    folder = memo_on / memo.code_fingerprint()
    circuit = (memo.IMAGE_IDS, machine_ids.CIRCUIT_DIGESTS, machine_ids.VERIFIER_KEYS, "prover-key")
    stored = [p.name for p in folder.iterdir()] if folder.exists() else []
    assert not [name for name in stored if name.startswith(circuit)]  # (content-keyed values may be there)
    monkeypatch.setattr(CpuAir, "constraints", original)
    monkeypatch.setattr(machine_ids, "_IDS", {})
    monkeypatch.setattr(machine_ids, "_DIGESTS", {})
    assert chips_are_pyzkvms()
    program = Program.from_elf(FIB)
    assert memo.get(memo.IMAGE_IDS, memo.program_key(program)) is None
    assert machine_ids.machine_image_id(program) == memo.get(memo.IMAGE_IDS, memo.program_key(program))


def test_off_and_unwritable_mean_recompute(memo_on, monkeypatch):
    memo.put("ns", b"k", b"value")
    monkeypatch.setenv(memo.NO_MEMO_ENV, "1")
    assert memo.get("ns", b"k") is None
    memo.put("ns", b"k2", b"v")  # no error, nothing written
    monkeypatch.delenv(memo.NO_MEMO_ENV)
    assert memo.get("ns", b"k2") is None
    blocker = memo_on / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(blocker))  # a file, not a folder: nothing can be written
    memo.put("ns", b"k", b"v")
    assert memo.get("ns", b"k") is None


def test_an_image_id_is_computed_once_then_read_without_the_machine(memo_on, monkeypatch):
    from pyzkvm.backends.image_id import program_image_id
    from pyzkvm.machine import image_id as machine_ids
    from pyzkvm.program import Program

    monkeypatch.setattr(machine_ids, "_IDS", {})  # what other tests left in this process
    monkeypatch.setattr(machine_ids, "_DIGESTS", {})
    program = Program.from_elf(FIB)
    computed = program_image_id(program)
    assert memo.get(memo.IMAGE_IDS, memo.program_key(program)) == computed

    def no_setup(*args, **kwargs):
        raise AssertionError("setup ran although the ID was stored")

    monkeypatch.setattr(machine_ids, "machine_verifying_key", no_setup)
    monkeypatch.setattr(machine_ids, "_key_without_setup", no_setup)  # the image ID's setups (v3)
    monkeypatch.setattr(machine_ids, "_IDS", {})
    monkeypatch.setattr(machine_ids, "_DIGESTS", {})
    assert program_image_id(Program.from_elf(FIB)) == computed
    assert machine_ids.machine_image_id(Program.from_elf(FIB)) == computed
    # another profile of the same bytes is another key (the profile is part of the ID)
    assert memo.get(memo.IMAGE_IDS, memo.program_key(Program.from_elf(FIB, abi="risc0"))) is None


def test_a_fresh_info_command_reads_the_stored_id(memo_on):
    # a value planted under the program's key (as if this code had computed it) is what a new
    # process prints: it read the memo, and ran no setup
    from pyzkvm.program import Program

    planted = bytes(range(32))
    memo.put(memo.IMAGE_IDS, memo.program_key(Program.from_elf(FIB)), planted)
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # memo_on set PYZKVM_MEMO_DIR
    env.pop(memo.NO_MEMO_ENV, None)
    out = subprocess.run([sys.executable, "-m", "pyzkvm", "info", str(FIB)], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert planted.hex() in out


def test_the_optional_check_remembers_a_pass_never_a_failure(memo_on, monkeypatch):
    from pyzkvm.errors import ConstraintNotSatisfied, StarkConfigError
    from pyzkvm.machine.tables import machine_airs
    from pyzkvm.stark import debug, optional
    from pyzkvm.stark.air import compile_air

    air = next(a for a in machine_airs() if getattr(a, "optional", False))
    compiled = compile_air(air)
    optional.check_optional_air(compiled)  # evaluated, passes, stored

    def fails(*args, **kwargs):
        raise ConstraintNotSatisfied("a constraint fails on zero rows")

    monkeypatch.setattr(optional, "_zero_rows_hold", lambda *args: False)  # the numpy pass finds a non-zero
    monkeypatch.setattr(debug, "check_constraints", fails)  # and the row evaluator names it
    optional.check_optional_air(compiled)  # read from the memo: nothing evaluated
    for _ in range(2):  # other trials are another key: evaluated, and a failure is never stored
        with pytest.raises(StarkConfigError, match="marked optional"):
            optional.check_optional_air(compiled, trials=3)
