"""Commands take a prebuilt guest by name (pyzkvm/guests/prebuilt.py); paths keep working."""

from __future__ import annotations

import json
from pathlib import Path

from pyzkvm.cli import main as cli_main
from pyzkvm.guests.prebuilt import prebuilt_guests, resolve_guest

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"


def test_a_name_finds_the_prebuilt_elf_of_its_abi_profile():
    assert resolve_guest("fibonacci").read_bytes() == (BIN / "fibonacci.elf").read_bytes()
    assert resolve_guest("fibonacci.elf").read_bytes() == (BIN / "fibonacci.elf").read_bytes()
    assert resolve_guest("sort", "risc0").read_bytes() == (BIN / "risc0" / "sort.elf").read_bytes()
    assert set(prebuilt_guests()) == {p.stem for p in BIN.glob("*.elf")}
    assert "aggregator" not in prebuilt_guests("risc0")  # SP1-only guest


def test_an_existing_path_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("fibonacci").write_bytes(b"not an elf")
    assert resolve_guest("fibonacci") == Path("fibonacci")
    assert resolve_guest("sub/fibonacci") == Path("sub/fibonacci")  # a path with a folder is never a name


def test_run_takes_a_name_and_a_path_alike(capsys):
    assert cli_main(["run", "fibonacci", "--input", "u32:10"]) == 0
    by_name = capsys.readouterr().out.split(" in ")[0]  # the run's timing differs
    assert cli_main(["run", str(BIN / "fibonacci.elf"), "--input", "u32:10"]) == 0
    assert capsys.readouterr().out.split(" in ")[0] == by_name
    assert "0a0000003700000000000000" in by_name


def test_an_unknown_name_says_which_guests_exist(capsys):
    assert cli_main(["run", "fibonaci"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pyzkvm: error: fibonaci: no such file, and no prebuilt guest of that name")
    assert "fibonacci" in err and "'pyzkvm guests'" in err


def test_guests_lists_every_prebuilt_guest_per_profile(capsys):
    assert cli_main(["guests", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {name: Path(p).read_bytes() for name, p in listed["sp1"].items()} == {
        p.stem: p.read_bytes() for p in BIN.glob("*.elf")
    }
    assert set(listed["risc0"]) == {p.stem for p in (BIN / "risc0").glob("*.elf")}
    assert cli_main(["guests"]) == 0
    assert "fibonacci" in capsys.readouterr().out
