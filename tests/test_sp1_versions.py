"""SP1's executor behaviour version by version (docs/abi.md, "SP1 versions"), each from a
hand-written guest. The hint-queue order, the cycle tracker and the fetch model have their
tests beside the other syscall/executor tests (test_executor_syscalls.py, test_executor.py)."""

from __future__ import annotations

import pytest

from pyzkvm.errors import SyscallError, UsageError
from pyzkvm.executor import execute
from pyzkvm.executor.sp1_versions import detect_sp1_version
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

WRITE, ENTER, EXIT, HINT_LEN, HINT_READ, SHA_EXTEND = 2, 3, 4, 0xF0, 0xF1, 0x00300105
T0 = 5


def run(code, data=b"", inputs=(), abi="sp1"):
    return execute(program(flatten([code, halt(0)]), data=data), inputs, abi=abi)


def test_t0_after_exit_unconstrained_is_zero():
    """unconstrained.rs: EXIT returns Some(0), inside a block or not (v3–v5)."""
    e = run([syscall(EXIT), asm.add(18, T0, 0)])
    assert e.final_registers[18] == 0


def test_write_to_an_unknown_fd_is_a_warning_and_the_run_goes_on():
    """write.rs: tracing::warn!("tried to write to unknown file descriptor"), no error."""
    e = run([syscall(WRITE, 99, DATA_BASE, 3), syscall(WRITE, 3, DATA_BASE, 3)], data=b"abc")
    assert e.journal == b"abc" and e.exit_code == 0
    assert e.warnings == ("WRITE to unknown fd 99 (3 bytes) ignored, as SP1 does",)


def test_fds_13_and_14_are_unknown_to_sp1_v3():
    """v3's write.rs: fd 3 public values, fd 4 hints, then its hooks, else a warning; 13/14 came with v4."""
    write13 = [syscall(WRITE, 13, DATA_BASE, 3), syscall(WRITE, 14, DATA_BASE, 3)]
    v5, v3 = run(write13, data=b"abc"), run(write13, data=b"abc", abi="sp1@3")
    assert v5.journal == b"abc" and not v5.warnings
    assert v3.journal == b"" and v3.warnings == ("WRITE to unknown fd 13 (3 bytes) ignored, as SP1 does",
                                                 "WRITE to unknown fd 14 (3 bytes) ignored, as SP1 does")


def test_reserved_low_fds_panic_from_v4_and_are_hooks_in_v3():
    with pytest.raises(SyscallError, match="reserved fd 7"):
        run(syscall(WRITE, 7, DATA_BASE, 1))
    with pytest.raises(SyscallError, match="hook ECRECOVER_V2 \\(WRITE to fd 7\\)"):  # v3: a hook (test_sp1_hooks_v3.py)
        run(syscall(WRITE, 7, DATA_BASE, 1), abi="sp1@3")
    assert run(syscall(WRITE, 9, DATA_BASE, 1), abi="sp1@3").warnings  # v3: no hook at fd 9: a warning


def test_fd_0_panics_from_v4_like_the_other_reserved_fds():
    """v4+ write.rs: after fds 1 and 2, `fd <= LOWEST_ALLOWED_FD` (10) panics, fd 0 included (it
    was a warning here: a review against SP1's source, session 26); v3 warns."""
    for abi in ("sp1", "sp1@4", "sp1@4.0"):
        with pytest.raises(SyscallError, match=r"reserved fd 0: SP1 v4\+ panics on fds 0 and 5..10"):
            run(syscall(WRITE, 0, DATA_BASE, 1), abi=abi)
    assert run(syscall(WRITE, 0, DATA_BASE, 1), abi="sp1@3").warnings == ("WRITE to unknown fd 0 (1 bytes) ignored, "
                                                                          "as SP1 does",)


def test_hint_read_inside_an_unconstrained_block_is_an_error():
    """executor.rs refuses it first (InvalidSyscallUsage), and hint.rs would assert it anyway
    ("hint read should not be used in a unconstrained block"). More in test_unconstrained_effects.py."""
    with pytest.raises(SyscallError, match="HINT_READ inside an unconstrained block"):
        run([syscall(ENTER), syscall(HINT_READ, DATA_BASE, 1)], inputs=[b"x"])


def test_enter_inside_an_unconstrained_block_is_an_error():
    with pytest.raises(SyscallError, match="ENTER_UNCONSTRAINED inside an unconstrained block"):
        run([syscall(ENTER), syscall(ENTER)])


def test_sha_extend_and_keccak_permute_with_a1_not_zero_panic():
    """sha256/extend.rs and keccak256/permute.rs: assert!(arg2 == 0, "arg2 must be 0")."""
    with pytest.raises(SyscallError, match="SHA_EXTEND with a1=1"):
        run(syscall(SHA_EXTEND, DATA_BASE, 1), data=bytes(256))
    with pytest.raises(SyscallError, match="KECCAK_PERMUTE with a1=5"):
        run(syscall(0x00010109, DATA_BASE, 5), data=bytes(256))


@pytest.mark.parametrize("abi, panics", [("sp1@3", True), ("sp1@4.0", True), ("sp1@4", False), ("sp1@5", False), ("sp1", False)])
def test_hint_len_with_no_input_left(abi, panics):
    code = [syscall(HINT_LEN), asm.add(18, T0, 0)]
    if panics:
        with pytest.raises(SyscallError, match="HINT_LEN with no input left: SP1 before v4.2 panics"):
            run(code, abi=abi)
    else:
        assert run(code, abi=abi).final_registers[18] == 0xFFFFFFFF


def test_versioned_profiles_run_as_the_sp1_family():
    e = run([], abi="sp1@3")
    assert (e.abi, e.abi_profile) == ("sp1", "sp1@3")
    with pytest.raises(UsageError, match="unknown ABI profile 'sp1@2'"):
        run([], abi="sp1@2")


@pytest.mark.parametrize("crate, profile", [("3.0.0", "sp1@3"), ("4.0.1", "sp1@4.0"), ("4.2.0", "sp1@4"), ("5.2.1", "sp1@5")])
def test_the_sp1_version_is_read_from_the_elfs_panic_paths(crate, profile):
    blob = b"\0/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/sp1-zkvm-" + crate.encode() + b"/src/lib.rs\0"
    assert detect_sp1_version(b"\x7fELF" + bytes(100) + blob) == (crate, profile)
    assert detect_sp1_version(b"\x7fELF" + bytes(100)) is None


def test_pyzkvm_run_says_which_profile_it_took_from_the_elf(tmp_path, capsys):
    """An ELF naming sp1-zkvm 3.0.0 runs under sp1@3 (v3 appends hints: the input is read
    first) unless --abi says otherwise."""
    from pyzkvm.cli import main
    from tests.rvasm import elf

    code = flatten([syscall(WRITE, 4, DATA_BASE, 1), syscall(HINT_READ, DATA_BASE + 8, 1),
                    syscall(WRITE, 3, DATA_BASE + 8, 1), halt(0)])  # fmt: skip
    path = tmp_path / "v3.elf"
    path.write_bytes(elf(code, data=b"H\0\0\0/cargo/registry/src/x/sp1-zkvm-3.0.0/src/lib.rs\0"))
    assert main(["run", str(path), "--input", "str:I", "--json"]) == 0
    out = capsys.readouterr()
    assert "sp1-zkvm 3.0.0: running under ABI profile sp1@3" in out.err
    assert '"journal": "49"' in out.out  # "I": the input before the hint
    assert main(["run", str(path), "--input", "str:I", "--json", "--abi", "sp1"]) == 0
    assert '"journal": "48"' in capsys.readouterr().out  # v5: the hint goes first


def test_stark_backend_refuses_a_run_that_ended_by_leaving_the_program():
    from pyzkvm.errors import UnsupportedProgram
    from pyzkvm.machine.support import check_provable

    e = run([asm.li(11, 0x78000000), asm.jalr(0, 11, 0)])
    with pytest.raises(UnsupportedProgram, match="outside the program .SP1's end of run., not at HALT"):
        check_provable(e)
    check_provable(run([]))  # a run that HALTs passes this check
