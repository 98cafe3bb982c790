"""The prebuilt RISC Zero-profile guests (guests/bin/risc0/*.elf) on pyzkvm's executor
(abi="risc0"): each gives the same journal, exit code and stderr as its sp1 twin
(guests/bin/*.elf) on equivalent inputs, and the output digest it hands to HALT equals RISC
Zero's Output digest recomputed here with hashlib. Journals are also checked against
independent references (hashlib, sorted(), Python big integers).
"""

from __future__ import annotations

import hashlib
import struct

import pytest

from pyzkvm import inputs as enc
from pyzkvm.guests.build_all import SKIPPED
from pyzkvm.program import Program

try:  # tests/ is a package when it has __init__.py, a plain folder on sys.path otherwise
    from .test_guests_unicorn import BIN, fib_reference
except ImportError:
    from test_guests_unicorn import BIN, fib_reference

execute = pytest.importorskip("pyzkvm.executor").execute

RISC0_BIN = BIN / "risc0"
RISC0_GUESTS = ("fibonacci", "sha256", "sort", "panic", "rv32im-selftest")

# RISC Zero's Output struct digest, written out from its definition (risc0 `Output::digest`:
# tagged_struct("risc0.Output", [journal digest, assumptions digest])), not from pyzkvm.
_TAG = hashlib.sha256(b"risc0.Output").digest()


def risc0_output_digest(journal: bytes) -> bytes:
    return hashlib.sha256(_TAG + hashlib.sha256(journal).digest() + bytes(32) + struct.pack("<H", 2)).digest()


def test_empty_journal_output_digest_is_risc0s_vector():
    # RISC Zero's own test vector for Output { journal: empty, assumptions: empty }
    assert risc0_output_digest(b"").hex() == "836f175c62c0f353831665427e8b0b34f6d1d21902764daeb406c6b83db575b0"


def _u32s(values) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


_SORT = [0xFFFFFFFF, 0, 0x80000000, 0x7FFFFFFF, 9, 9]
_MSG = bytes(range(256)) * 3 + b"xyz"  # 771 bytes: not a multiple of 4

#: (guest, sp1 inputs, the same values as RISC Zero serde words, expected journal or None)
TWINS = [
    ("fibonacci", [enc.u32(0)], [enc.risc0_u32(0)], enc.u32(0) + struct.pack("<Q", 0)),
    ("fibonacci", [enc.u32(94)], [enc.risc0_u32(94)], enc.u32(94) + struct.pack("<Q", fib_reference(94))),
    ("sha256", [b""], [enc.risc0_bytes(b"")], hashlib.sha256(b"").digest()),
    ("sha256", [b"abc"], [enc.risc0_bytes(b"abc")], hashlib.sha256(b"abc").digest()),
    ("sha256", [_MSG], [enc.risc0_bytes(_MSG)], hashlib.sha256(_MSG).digest()),
    ("sort", [_u32s(_SORT)], [enc.risc0_bytes(_u32s(_SORT))], None),
    ("sort", [b"\x01\x02\x03"], [enc.risc0_bytes(b"\x01\x02\x03")], b""),  # panics: not u32s
    ("sha256", [], [], b""),  # panics: no input
    ("panic", [], [], b""),
    ("rv32im-selftest", [], [], None),
]


def run(path, inputs, abi):
    return execute(Program.from_elf(path, abi=abi), [bytes(x) for x in inputs])


@pytest.mark.parametrize("name, sp1_inputs, risc0_inputs, journal", TWINS,
                         ids=[f"{t[0]}-{i}" for i, t in enumerate(TWINS)])  # fmt: skip
def test_risc0_guest_matches_its_sp1_twin(name, sp1_inputs, risc0_inputs, journal):
    sp1 = run(BIN / f"{name}.elf", sp1_inputs, "sp1")
    r0 = run(RISC0_BIN / f"{name}.elf", risc0_inputs, "risc0")
    assert r0.abi == "risc0"
    assert (r0.journal, r0.exit_code, r0.stderr) == (sp1.journal, sp1.exit_code, sp1.stderr)
    if journal is not None:
        assert r0.journal == journal
    assert r0.halt_type == 0  # terminate
    assert r0.output_digest == risc0_output_digest(r0.journal)
    assert r0.output_digest_matches is True


def test_sort_journal_is_sorted_values():
    r0 = run(RISC0_BIN / "sort.elf", [enc.risc0_bytes(_u32s(_SORT))], "risc0")
    assert r0.exit_code == 0
    assert _u32s(sorted(_SORT)) in r0.journal  # the sorted values are what the guest commits


def test_exit_codes_and_messages_of_failing_runs():
    r0 = run(RISC0_BIN / "panic.elf", [], "risc0")
    assert r0.exit_code == 1 and r0.journal == b""
    assert r0.stderr == b"panic guest: this guest always panics\n"
    r0 = run(RISC0_BIN / "sha256.elf", [], "risc0")
    assert r0.exit_code == 1
    assert r0.stderr == b"pyzkvm_read_bytes: no input element left\n"
    # a byte string whose length word promises more than the stream holds
    r0 = run(RISC0_BIN / "sha256.elf", [enc.risc0_u32(8), b"abcd"], "risc0")
    assert r0.exit_code == 1
    assert r0.stderr == b"pyzkvm_read_bytes: input ends inside a byte string\n"


def test_words_are_read_in_stream_order():
    # fibonacci reads one word: of risc0_u64(5 << 32 | 7) that is the low word, 7; the high
    # word stays unread (no guest reads a u64, so pyzkvm_read_u64 is exercised only by the build)
    r0 = run(RISC0_BIN / "fibonacci.elf", [enc.risc0_u64(7 | (5 << 32))], "risc0")
    assert r0.exit_code == 0 and r0.journal == enc.u32(7) + struct.pack("<Q", fib_reference(7))


def test_risc0_guests_use_risc0s_memory_map():
    for name in RISC0_GUESTS:
        program = Program.from_elf(RISC0_BIN / f"{name}.elf", abi="risc0")
        assert program.entry == 0x00200800  # RISC Zero's TEXT_START
        for seg in program.segments:
            assert 0x00200800 <= seg.vaddr and seg.vaddr + len(seg.data) <= 0x0C000000


def test_risc0_guests_issue_only_risc0_ecalls():
    # the executor would fault on an SP1 ecall under abi="risc0"; count what was called
    r0 = run(RISC0_BIN / "sha256.elf", [enc.risc0_bytes(b"abc")], "risc0")
    assert r0.exit_code == 0
    calls = dict(r0.report.syscalls)
    assert set(calls) <= {"HALT", "SYS_READ", "SYS_WRITE", "SHA"}
    # length word, the padded body, the probe for the optional software flag (nothing left); one
    # journal write of the 32-byte digest; SHA-256 by RISC Zero's SHA ecall (a block each)
    assert calls["HALT"] == 1 and calls["SYS_READ"] == 3 and calls["SYS_WRITE"] == 1 and calls["SHA"] >= 1


def test_build_info_lists_every_risc0_guest_and_skips_the_aggregator():
    text = (RISC0_BIN / "BUILD_INFO").read_text()
    assert "abi: risc0" in text
    listed = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ": " not in line:
            digest, _, file = line.partition("  ")
            listed[file] = digest
    assert set(listed) == {f"{n}.elf" for n in RISC0_GUESTS}
    for file, digest in listed.items():
        assert hashlib.sha256((RISC0_BIN / file).read_bytes()).hexdigest() == digest
    assert "aggregator" in SKIPPED["risc0"] and "# skipped aggregator:" in text
    assert not (RISC0_BIN / "aggregator.elf").exists()
