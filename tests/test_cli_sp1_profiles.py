"""``--abi sp1@N`` on every command that takes --abi: accepted, and it reaches the executor
(a versioned behaviour changes). Two hand-written guests:

* HINT_ORDER writes a hint "H" to fd 4, then reads one input element into the journal: SP1 v3
  appends hints (the journal is the --input "I"), v4+ puts them first (the journal is "H");
* HINT_LEN asks HINT_LEN with no input left: a fault under sp1@3, 0xFFFFFFFF under sp1.
"""

from __future__ import annotations

import pytest

from pyzkvm.cli import main
from pyzkvm.receipt import Receipt
from tests.rvasm import DATA_BASE, flatten, halt, syscall
from tests.rvasm import elf as make_elf

WRITE, HINT_LEN, HINT_READ = 2, 0xF0, 0xF1


@pytest.fixture(scope="module")
def guests(tmp_path_factory):
    d = tmp_path_factory.mktemp("profiles")
    hint_order = flatten([syscall(WRITE, 4, DATA_BASE, 1), syscall(HINT_READ, DATA_BASE + 8, 1),
                          syscall(WRITE, 3, DATA_BASE + 8, 1), halt(0)])  # fmt: skip
    (d / "order.elf").write_bytes(make_elf(hint_order, data=b"H\0\0\0\0\0\0\0\0\0\0\0"))
    (d / "len.elf").write_bytes(make_elf(flatten([syscall(HINT_LEN), halt(0)])))
    return d


def _journal_of(receipt_path) -> bytes:
    return Receipt.from_bytes(receipt_path.read_bytes()).journal


def test_prove_and_verify_replay_take_the_profile(guests, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYZKVM_DEV_MODE", "1")
    elf = str(guests / "order.elf")
    for abi, journal in (("sp1@3", b"I"), ("sp1", b"H")):
        out = tmp_path / f"{abi}.receipt"
        assert main(["prove", elf, "--input", "str:I", "--backend", "trace", "--abi", abi, "-o", str(out)]) == 0
        assert _journal_of(out) == journal
    # replaying the v3 receipt under the v3 profile holds; under v5 the run differs
    v3 = str(tmp_path / "sp1@3.receipt")
    assert main(["verify", v3, "--elf", elf, "--abi", "sp1@3", "--replay", "--input", "str:I"]) == 0
    assert main(["verify", v3, "--elf", elf, "--abi", "sp1", "--replay", "--input", "str:I"]) == 1
    capsys.readouterr()


def test_trace_takes_the_profile(guests, capsys):
    elf = str(guests / "len.elf")
    assert main(["trace", elf, "--abi", "sp1"]) == 0
    capsys.readouterr()
    assert main(["trace", elf, "--abi", "sp1@3"]) == 1
    assert "HINT_LEN with no input left: SP1 before v4.2 panics" in capsys.readouterr().err


def test_crosscheck_takes_the_profile(guests, capsys):
    elf = str(guests / "order.elf")
    for abi, journal in (("sp1@3", "49"), ("sp1", "48")):
        main(["crosscheck", elf, "--input", "str:I", "--backends", "trace", "--abi", abi, "--json"])
        out = capsys.readouterr().out
        assert f'"journal_hex": "{journal}"' in out and f'"abi": "{abi}"' in out


@pytest.mark.slow  # a local Dask cluster starts: ~8 s
def test_prove_batch_takes_the_profile(guests, tmp_path, capsys):
    lines = tmp_path / "inputs.txt"
    lines.write_text("str:I\n")
    elf = str(guests / "order.elf")
    for abi, journal in (("sp1@3", b"I"), ("sp1", b"H")):
        out = tmp_path / abi
        assert main(["prove-batch", elf, "--inputs", str(lines), "--backend", "trace", "--abi", abi,
                     "--workers", "1", "--out-dir", str(out)]) == 0  # fmt: skip
        assert _journal_of(out / "order-1.receipt") == journal
    capsys.readouterr()


def test_info_shows_the_profile_and_the_image_id_does_not_depend_on_it(guests, capsys):
    elf = str(guests / "order.elf")
    assert main(["info", elf, "--abi", "sp1@3", "--json"]) == 0
    v3 = capsys.readouterr().out
    assert main(["info", elf, "--json"]) == 0
    v5 = capsys.readouterr().out
    assert '"abi_profile": "sp1@3"' in v3 and '"abi_profile": "sp1"' in v5
    image_id = v5.split('"image_id": ')[1]
    assert image_id and v3.split('"image_id": ')[1] == image_id
