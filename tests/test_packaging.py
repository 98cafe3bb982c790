"""What a fresh ``pip install`` gets: the wheel and the sdist, built from a clean copy of this tree.

The quick tests build both with setuptools' PEP 517 hooks (no network, no build isolation:
setuptools >= 77 comes with the dev extra) and read their file lists. The slow test installs the
wheel into a new virtual environment and runs the README's command by guest name from an
empty directory, outside any checkout.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Not part of a clean checkout: caches, build outputs, receipts written by hand.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.py[cod]", "*.nbi", "*.nbc",
    ".pytest_cache", ".hypothesis", "*.receipt",
)


def _source_files(folder: str) -> set[str]:
    """Files under ``ROOT/folder`` that a clean checkout holds, relative to ROOT."""
    out = set()
    for parent, dirs, files in os.walk(ROOT / folder):
        dirs[:] = [d for d in dirs if d not in _NOT_SOURCE(parent, dirs)]
        skipped = _NOT_SOURCE(parent, files)
        out |= {(Path(parent) / f).relative_to(ROOT).as_posix() for f in files if f not in skipped}
    return out


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """(wheel, sdist) built from a copy of the source tree, so the checkout gets no build/ or egg-info."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE)
    out = tmp / "dist"
    script = (
        "import sys; from setuptools import build_meta as b; "
        "out = sys.argv[1]; names = b.build_wheel(out), b.build_sdist(out); print('BUILT', *names)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(out)], cwd=src, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    wheel_name, sdist_name = done.stdout.rsplit("BUILT", 1)[1].split()
    return out / wheel_name, out / sdist_name, done.stdout + done.stderr


def test_wheel_ships_the_prebuilt_guests_licences_and_py_typed(dists):
    wheel, _, _ = dists
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for elf in sorted((ROOT / "guests" / "bin").rglob("*.elf")):
            rel = elf.relative_to(ROOT / "guests" / "bin").as_posix()
            assert z.read(f"pyzkvm/guests/bin/{rel}") == elf.read_bytes(), rel
        shipped = sorted((ROOT / "pyzkvm" / "data").iterdir())  # pyzkvm/shipped.py: manifest and values
        assert shipped and all(z.read(f"pyzkvm/data/{p.name}") == p.read_bytes() for p in shipped)
        meta = email.message_from_bytes(z.read("pyzkvm-0.1.0.dist-info/METADATA"))
    assert "pyzkvm/py.typed" in names
    assert "pyzkvm/guests/sdk/pyzkvm.h" in names
    assert {"pyzkvm-0.1.0.dist-info/licenses/LICENSE-MIT", "pyzkvm-0.1.0.dist-info/licenses/LICENSE-APACHE"} <= names
    assert meta["License-Expression"] == "MIT OR Apache-2.0"


def test_sdist_holds_the_whole_test_suite_the_guests_and_the_licences(dists):
    _, sdist, _ = dists
    with tarfile.open(sdist) as t:
        prefix = t.getnames()[0].split("/")[0]
        names = {n.removeprefix(prefix + "/") for n in t.getnames()}
    wanted = _source_files("tests") | _source_files("guests") | _source_files("pyzkvm/data") | {
        "LICENSE-MIT", "LICENSE-APACHE", "setup.py"}
    assert "tests/rvasm.py" in wanted and "guests/bin/fibonacci.elf" in wanted
    missing = sorted(wanted - names)
    assert not missing, f"the sdist lacks {missing[:10]}"


def test_the_build_warns_of_no_deprecated_licence_table(dists):
    _, _, log = dists
    assert "license" not in log.lower() or "deprecat" not in log.lower(), log[-2000:]


@pytest.mark.slow
def test_a_non_editable_install_proves_a_guest_by_name_outside_any_checkout(dists, tmp_path):
    """pip install the wheel into a fresh venv (reusing this environment's dependencies) and
    run the README's main command by guest name from an empty directory."""
    wheel, _, _ = dists
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # This environment's packages (numpy, numba, ...) as a plain path entry after the venv's own:
    # its .pth files (the editable pyzkvm of a checkout) are not processed, the wheel's pyzkvm wins.
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "parent-env.pth").write_text("\n".join(sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})) + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")  # the installed copy compiles into its own cache
    run = subprocess.run(
        [str(venv / "bin" / "pyzkvm"), "prove", "fibonacci", "--input", "u32:10", "--backend", "trace"],
        cwd=work, env=env, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "journal:    0a0000003700000000000000" in run.stdout
    listed = subprocess.run([str(venv / "bin" / "pyzkvm"), "guests"], cwd=work, env=env, capture_output=True, text=True)
    assert str(venv) in listed.stdout and "fibonacci" in listed.stdout  # the package data, not this checkout
    assert sorted(p.name for p in work.iterdir()) == ["fibonacci.trace.receipt"]
