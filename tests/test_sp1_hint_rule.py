"""SP1's rule for HINT_READ, checked on every prebuilt SP1-profile guest.

SP1's executor (``syscalls/hint.rs``) does not write a hint into memory: it records the words
as the *initial* value of each address (``uninitialized_memory``), which a load sees only where
nothing has loaded, stored or initialised the word yet, and a second HINT_READ to an address
panics. pyzkvm's executor and its hint-words chip write the words over whatever is there
(docs/abi.md, "Where pyzkvm differs from SP1 v5"), so a guest that reads a hint into memory it
has used before runs here but reads stale words (or panics) under SP1. The SDK therefore reads
every hint into heap memory nothing has touched (``pyzkvm_fresh_alloc``) and copies it from
there. This test checks that on the proven run: each hint word's address is outside the ELF
image, no access to it comes earlier, and no other hint word lands on it.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import pyzkvm
from pyzkvm.guests import available_compilers
from pyzkvm.machine import witness as witness_module
from pyzkvm.machine.tables import build_chips, generate_tables
from pyzkvm.program import Program

try:  # tests/ is a package when it has __init__.py, a plain folder on sys.path otherwise
    from .test_guests_unicorn import BIN, claims, u32
except ImportError:
    from test_guests_unicorn import BIN, claims, u32

#: each SP1-profile guest that reads input, with inputs that take every read path it has
RUNS = {
    "fibonacci": [u32(10)],
    "aggregator, 3 claims": [u32(3), *claims(3)],
    "isqrt-hint": [u32(1000)],
    "sha256": [b"abc" * 30],
    "sha256, software": [b"abc", u32(1)],
    "keccak256, software": [b"x" * 200, u32(1)],
    "sort": [np.arange(9, 0, -1, dtype="<u4").tobytes()],
    "precompiles": [u32(3)],
    "rv32im-selftest": [u32(0)],
    "ed25519-verify": [(BIN.parent / "ed25519-verify" / "batch3.bin").read_bytes()],
}


def hint_rule_violations(elf, inputs) -> list[str]:
    """Where the proven run of ``elf`` reads a hint into memory SP1 would not show it in."""
    program = Program.from_elf(elf)
    groups_seen: list = []
    real_resolve = witness_module.resolve_accesses

    def spy(groups, image, *args, **kwargs):
        groups_seen.append((list(groups), image))
        return real_resolve(groups, image, *args, **kwargs)

    witness_module.resolve_accesses = spy
    try:
        generate_tables(build_chips(program), pyzkvm.execute(program, inputs, capture_trace=True))
    finally:
        witness_module.resolve_accesses = real_resolve
    (groups, image), = groups_seen
    hints = [g for g in groups if g.what == "hint word"]
    others = [g for g in groups if g.what != "hint word"]
    assert hints, "the run reads no hint: the check would hold trivially"
    hint_key = np.concatenate([np.asarray(g.key, dtype=np.int64) for g in hints])
    hint_ts = np.concatenate([np.asarray(g.ts, dtype=np.int64) for g in hints])
    other_key = np.concatenate([np.asarray(g.key, dtype=np.int64) for g in others])
    other_ts = np.concatenate([np.asarray(g.ts, dtype=np.int64) for g in others])
    address = lambda key: f"{4 * (int(key) - 32):#x}"  # noqa: E731 (memory key 32 + A/4; keys < 32: registers)
    keys, counts = np.unique(hint_key, return_counts=True)
    found = [f"word {address(k)} is hint-read {c} times" for k, c in zip(keys[counts > 1], counts[counts > 1])]
    found += [f"word {address(k)} is hint-read over the ELF image"
              for k in np.intersect1d(hint_key, np.asarray(image.keys, dtype=np.int64))]
    # each memory word's first access by anything else, and the hint words that come after it
    memory = other_key >= 32
    order = np.lexsort((other_ts[memory], other_key[memory]))
    touched, first = np.unique(other_key[memory][order], return_index=True)
    first_ts = other_ts[memory][order][first]
    at = np.minimum(np.searchsorted(touched, hint_key), len(touched) - 1)
    late = (touched[at] == hint_key) & (first_ts[at] < hint_ts)
    found += [f"word {address(k)} is hint-read after an access at ts {t}" for k, t in zip(hint_key[late], first_ts[at][late])]
    return found


@pytest.mark.parametrize("run", sorted(RUNS))
def test_every_hint_lands_in_memory_nothing_touched(run):
    inputs = RUNS[run]
    violations = hint_rule_violations(BIN / f"{run.split(',')[0]}.elf", inputs)
    assert violations == [], violations[:5]


@pytest.mark.skipif(not available_compilers(), reason="no RISC-V C compiler found: pip install 'pyzkvm[guests]'")
def test_the_check_finds_a_hint_read_twice_into_one_buffer(tmp_path):
    """The checker against a guest that breaks the rule: the SDK's read into a caller's buffer
    used twice (what the aggregator did before its reads went through fresh memory)."""
    from pyzkvm.guests.build import build_guest

    src = tmp_path / "twice"
    src.mkdir()
    (src / "main.c").write_text(
        '#include "pyzkvm.h"\n'
        "int main(void) {\n"
        "    uint32_t buf[2];\n"
        "    for (int i = 0; i < 2; i++) {\n"
        "        pyzkvm_syscall(PYZKVM_SYS_HINT_LEN, 0, 0, 0);\n"
        "        pyzkvm_syscall(PYZKVM_SYS_HINT_READ, (uint32_t)(uintptr_t)buf, 8, 0);\n"
        "        pyzkvm_commit(buf, 8);\n"
        "    }\n"
        "    return 0;\n"
        "}\n")
    elf = build_guest(src, tmp_path / "twice.elf").output
    violations = hint_rule_violations(elf, [hashlib.sha256(b"a").digest()[:8], hashlib.sha256(b"b").digest()[:8]])
    assert any("hint-read 2 times" in v for v in violations), violations
    assert any("after an access" in v for v in violations), violations


def _hint_warnings(execution) -> list[str]:
    return [w for w in execution.warnings if w.startswith("HINT_READ into")]


@pytest.mark.parametrize("run", sorted(RUNS))
def test_the_executor_warns_of_no_hint_in_a_prebuilt_guests_run(run):
    """The executor's own check of the rule's two cases it can see (the ELF image, a word hinted
    twice) finds nothing in the SDK's reads: no false alarm."""
    program = Program.from_elf(BIN / f"{run.split(',')[0]}.elf")
    assert _hint_warnings(pyzkvm.execute(program, RUNS[run])) == []


def test_the_executor_warns_where_sp1_would_not_show_a_hint():
    """A hand-written guest: a HINT_READ over its ELF data (SP1 keeps the image's words there), one
    into fresh memory, one over the second half of that (SP1 panics: the word was hinted), one
    just after it (fresh: no warning). The run itself goes on as before: pyzkvm writes each hint."""
    from tests.rvasm import DATA_BASE, flatten, halt, program, syscall

    fresh = DATA_BASE + 0x1000  # past the 16-byte data segment
    code = flatten([[syscall(0xF0), syscall(0xF1, ptr, n)] for ptr, n in
                    ((DATA_BASE + 4, 4), (fresh, 8), (fresh + 4, 4), (fresh + 8, 5))] + [halt(0)])
    execution = pyzkvm.execute(program(code, data=bytes(16)), [b"abcd", b"12345678", b"wxyz", b"tail!"])
    assert execution.exit_code == 0
    warnings = _hint_warnings(execution)
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith(f"HINT_READ into [0x{DATA_BASE + 4:08x}, +4) lands on the program's own data")
    assert warnings[1].startswith(f"HINT_READ into [0x{fresh + 4:08x}, +4) lands on words an earlier HINT_READ filled")
