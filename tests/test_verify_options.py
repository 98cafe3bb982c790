"""pyzkvm.verify's options, as a library caller passes them (session 25's red-team review):
``dev_mode`` is True, False or None (the string "false" turned dev mode on), and ``program=``
works with a stark receipt (it was handed to the stark verifier, which refused the option) and
must be the image ID's program."""

from __future__ import annotations

import pytest

import pyzkvm
from pyzkvm.errors import DevModeReceiptError, UsageError
from pyzkvm.program import Program
from tests.rvasm import elf, flatten, halt, syscall


@pytest.fixture(scope="module")
def guest() -> Program:
    return Program.from_elf(elf(flatten([syscall(2, 3, 0x00300000, 2), halt(3)]), data=b"ok\0\0"))


@pytest.mark.parametrize("dev_mode", ["false", "0", 0, 1, "yes"])
def test_a_dev_mode_that_is_not_a_bool_is_refused(guest, dev_mode):
    receipt = pyzkvm.prove(guest, backend="trace")
    with pytest.raises(UsageError, match="dev_mode must be True, False or None"):
        pyzkvm.verify(receipt, guest.image_id, dev_mode=dev_mode)
    with pytest.raises(DevModeReceiptError):
        pyzkvm.verify(receipt, guest.image_id, dev_mode=False)
    assert pyzkvm.verify(receipt, guest.image_id, dev_mode=True).exit_code == 3


def test_program_is_an_option_of_a_stark_verify_and_must_match_the_image_id(guest):
    receipt = pyzkvm.prove(guest, backend="stark", preset="insecure_fast_for_tests")
    assert pyzkvm.verify(receipt, guest.image_id, program=guest, allow_insecure=True).exit_code == 3
    other = Program.from_elf(elf(flatten([halt(4)])))
    with pytest.raises(UsageError, match="program= is not the program of the image ID"):
        pyzkvm.verify(receipt, guest.image_id, program=other, allow_insecure=True)


def test_verify_by_image_id_says_the_sp1_version_is_not_checked(guest, tmp_path, capsys):
    """The image ID binds the ABI family, not the SP1 version (docs/abi.md): without the ELF the
    CLI says which run the receipt shows; with --elf the ELF's own version is checked."""
    from pyzkvm.cli import main

    path, guest_path = tmp_path / "r.receipt", tmp_path / "g.elf"
    guest_path.write_bytes(elf(flatten([syscall(2, 3, 0x00300000, 2), halt(3)]), data=b"ok\0\0"))
    path.write_bytes(pyzkvm.prove(guest, backend="stark", preset="insecure_fast_for_tests").to_bytes())
    assert main(["verify", str(path), "--image-id", guest.image_id.hex(), "--min-security-bits", "0"]) == 0
    assert "the run as SP1 v5 executes it (--elf checks the ELF's own SP1 version)" in capsys.readouterr().out
    assert main(["verify", str(path), "--elf", str(guest_path), "--min-security-bits", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified: stark receipt") and "SP1 v5" not in out
