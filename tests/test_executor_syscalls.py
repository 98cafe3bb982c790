"""SP1-profile syscalls: I/O, hints, commits, unconstrained blocks, precompiles, cycle tracker.

Precompiles are checked against hashlib (sha256, sha3_256), never against pyzkvm code.
"""

from __future__ import annotations

import hashlib
import struct

import pytest

from pyzkvm.errors import MemoryOutOfRange, SyscallError, UnknownSyscall
from pyzkvm.executor import execute
from pyzkvm.executor.precompiles import SHA256_H0
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

HALT, WRITE, ENTER, EXIT, COMMIT, DEFERRED, HINT_LEN, HINT_READ = 0, 2, 3, 4, 0x10, 0x1A, 0xF0, 0xF1
SHA_EXTEND, SHA_COMPRESS, KECCAK = 0x00300105, 0x00010106, 0x00010109
T0 = 5


def run(code, data=b"", inputs=(), **kw):
    return execute(program(flatten([code, halt(0)]), data=data), inputs, **kw)


def write(fd, addr, n):
    return syscall(WRITE, fd, addr, n)


def test_write_routes_each_fd():
    data = b"out\nerr\npub1pub2"
    e = run([write(1, DATA_BASE, 4), write(2, DATA_BASE + 4, 4), write(3, DATA_BASE + 8, 4), write(13, DATA_BASE + 12, 4)], data)
    assert (e.stdout, e.stderr, e.journal) == (b"out\n", b"err\n", b"pub1pub2")
    assert e.report.syscalls == {"WRITE": 4, "HALT": 1}


def test_t0_holds_the_code_or_the_return_value():
    e = run([write(1, DATA_BASE, 0), asm.add(18, T0, 0), syscall(HINT_LEN), asm.add(19, T0, 0)], inputs=[b"12345"])
    assert e.final_registers[18] == WRITE  # no return value: t0 keeps the code
    assert e.final_registers[19] == 5


def test_hint_len_and_hint_read_copy_and_zero_pad():
    # destination pre-filled with 0xff: HINT_READ writes whole words, the last one zero-padded
    e = run([syscall(HINT_LEN), asm.add(18, T0, 0), syscall(HINT_READ, DATA_BASE, 5), write(3, DATA_BASE, 12),
             syscall(HINT_LEN), asm.add(19, T0, 0)], data=b"\xff" * 12, inputs=[b"hello"])  # fmt: skip
    assert e.final_registers[18] == 5
    assert e.journal == b"hello\0\0\0" + b"\xff" * 4
    assert e.final_registers[19] == 0xFFFFFFFF  # nothing left


def _hints_then_reads(lengths, abi, second_fd=14):
    """WRITE "abc" to fd 4 and "de" to ``second_fd`` with input ["Z"] left, then HINT_READ 3 elements."""
    reads = [syscall(HINT_READ, DATA_BASE + 16 + 4 * i, n) for i, n in enumerate(lengths)]
    return run([write(4, DATA_BASE, 3), write(second_fd, DATA_BASE + 3, 2), reads, write(3, DATA_BASE + 16, 12)],
               data=b"abcde", inputs=[b"Z"], abi=abi).journal  # fmt: skip


def test_hints_go_to_the_front_of_the_input_queue_in_v4_and_v5():
    """SP1 v4.0+ write.rs: input_stream.push_front — the newest hint is read first."""
    for abi in ("sp1", "sp1@5", "sp1@4", "sp1@4.0"):
        assert _hints_then_reads([2, 3, 1], abi) == b"de\0\0abc\0Z\0\0\0"


def test_hints_are_appended_to_the_input_queue_in_v3():
    """SP1 v3 write.rs: input_stream.push — hints come after the inputs not read yet (v3's hint
    fd is 4 only; 14 came with v4)."""
    assert _hints_then_reads([1, 3, 2], "sp1@3", second_fd=4) == b"Z\0\0\0abc\0de\0\0"


@pytest.mark.parametrize(
    "code, inputs, message",
    [
        (syscall(HINT_READ, DATA_BASE, 4), [], "no input left"),
        (syscall(HINT_READ, DATA_BASE, 3), [b"abcd"], "a1=3 but the next input element has 4 bytes"),
        (syscall(HINT_READ, DATA_BASE + 2, 4), [b"abcd"], "not 4-byte aligned"),
        (write(7, DATA_BASE, 1), [], "WRITE to reserved fd 7: SP1 v4\\+ panics"),
        # sha256/compress.rs: assert_ne!(w_ptr, h_ptr) (it computed a digest: review against SP1's source, session 26)
        (syscall(SHA_COMPRESS, DATA_BASE, DATA_BASE), [], "SHA_COMPRESS with a0 = a1 .*SP1 asserts w_ptr != h_ptr"),
        (syscall(COMMIT, 8, 0), [], "index a0=8"),
    ],
)
def test_syscall_argument_errors(code, inputs, message):
    with pytest.raises(SyscallError, match=message) as info:
        run(code, inputs=inputs)
    assert info.value.disassembly == "ecall"


def test_syscall_buffer_out_of_range():
    with pytest.raises(MemoryOutOfRange, match="WRITE buffer"):
        run(write(1, 0x77FFFFFE, 4))


def test_unknown_syscall_names_the_code():
    with pytest.raises(UnknownSyscall, match="0x00000099"):
        run(syscall(0x99))


def _commit(words, op=COMMIT):
    return [syscall(op, i, w) for i, w in enumerate(words)]


def test_commit_matches_sha256_of_the_journal():
    journal = b"public!!"
    words = struct.unpack("<8I", hashlib.sha256(journal).digest())
    e = run([write(3, DATA_BASE, 8), _commit(words), _commit([0] * 8, DEFERRED)], data=journal)
    assert e.commit_words == words and e.commit_matches is True
    assert e.deferred_proofs_digest == (0,) * 8


def test_commit_mismatch_and_absence_are_reported_not_raised():
    words = struct.unpack("<8I", hashlib.sha256(b"other").digest())
    assert run([write(3, DATA_BASE, 8), _commit(words)], data=b"public!!").commit_matches is False
    assert run([]).commit_matches is None


def test_halt_exit_code_is_reported_not_raised():
    e = execute(program(flatten([asm.li(10, 3), asm.li(5, 0), asm.ecall()])))
    assert e.exit_code == 3 and not e.succeeded


def test_cycle_tracker_spans_are_counted_and_removed_from_stdout():
    start, end = b"cycle-tracker-start: loop\n", b"cycle-tracker-end: loop\n"
    rstart, rend = b"cycle-tracker-report-start: r\n", b"cycle-tracker-report-end: r\n"
    data = start + end + rstart + rend + b"hi\n"
    o = [0, len(start), len(start) + len(end), len(start) + len(end) + len(rstart), len(data) - 3]
    loop = [asm.li(6, 10), asm.addi(6, 6, -1), asm.bne(6, 0, -4)]  # 2 + 20 cycles
    e = run([write(1, DATA_BASE + o[0], len(start)), write(1, DATA_BASE + o[2], len(rstart)), loop,
             write(1, DATA_BASE + o[1], len(end)), write(1, DATA_BASE + o[3], len(rend)),
             write(1, DATA_BASE + o[4], 3)], data=data)  # fmt: skip
    # a span counts from the start's ecall (included) to the end's ecall (excluded): for "loop"
    # that is 1 + the report-start WRITE (8 setup + 1) + the loop (22) + the end's 8 setup
    assert e.report.cycle_spans == {"loop": 1 + 9 + 22 + 8}  # SP1 logs plain spans only
    assert e.report.cycle_tracker == {"r": 1 + 22 + 9 + 8}  # the report-* span is SP1's report
    assert e.stdout == b"hi\n"


def test_cycle_tracker_keeps_one_start_per_name_like_sp1():
    """SP1 keeps open spans in a HashMap by name: an inner start of the same name overwrites
    the outer one, the inner end closes it, and the outer end finds nothing and is ignored."""
    start, end = b"cycle-tracker-report-start: f\n", b"cycle-tracker-report-end: f\n"
    w_start, w_end = write(1, DATA_BASE, len(start)), write(1, DATA_BASE + len(start), len(end))
    e = run([w_start, asm.addi(6, 0, 1), w_start, asm.addi(6, 0, 1), w_end, w_end], data=start + end)
    assert e.report.cycle_tracker == {"f": 1 + 1 + 8}  # inner span only: its ecall, addi, the end WRITE's 8 setup


def test_unconstrained_block_is_rolled_back_but_its_hints_stay():
    def guest(block):
        block = flatten([block, syscall(EXIT)])
        return [
            asm.li(7, DATA_BASE), asm.li(18, 5),
            syscall(ENTER), asm.addi(6, 0, 1), asm.bne(T0, 6, 4 * (len(block) + 1)), block,
            asm.add(19, T0, 0),  # t0 after the block
            asm.lw(20, 7, 0),  # memory after the block
            syscall(HINT_LEN), asm.add(21, T0, 0),
        ]

    block = [
        asm.li(6, 0x11111111), asm.sw(6, 7, 0),  # clobber memory at DATA_BASE
        asm.li(18, 99),  # clobber s2
        write(4, DATA_BASE + 8, 4),  # a hint for the constrained code
    ]
    e = run(guest(block), data=b"orig" + bytes(4) + b"HINT")
    r = e.final_registers
    assert r[19] == 0  # resumed after ENTER with t0 = 0, EXIT's return value (!= 1): the block is skipped
    assert r[20] == int.from_bytes(b"orig", "little")
    assert r[18] == 5
    assert r[21] == 4
    # the block's cycles are not counted: same count as the program whose block only EXITs
    empty = run(guest([]), data=b"orig")
    assert e.cycles == empty.cycles and empty.final_registers[21] == 0xFFFFFFFF  # no hint without the WRITE


def _sha256_via_precompiles(message: bytes) -> bytes:
    padded = message + b"\x80" + bytes(-(len(message) + 9) % 64) + struct.pack(">Q", 8 * len(message))
    blocks = [padded[i : i + 64] for i in range(0, len(padded), 64)]
    data = struct.pack("<8I", *SHA256_H0) + bytes(0x100 - 32)
    for b in blocks:  # each w[64] array: the 16 message words as u32 values, then room for 48
        data += struct.pack("<16I", *struct.unpack(">16I", b)) + bytes(48 * 4)
    code = []
    for k in range(len(blocks)):
        w = DATA_BASE + 0x100 + 256 * k
        code += syscall(SHA_EXTEND, w, 0) + syscall(SHA_COMPRESS, w, DATA_BASE)
    e = run([code, write(3, DATA_BASE, 32)], data=data)
    assert e.report.syscalls["SHA_EXTEND"] == len(blocks)
    return struct.pack(">8I", *struct.unpack("<8I", e.journal))


@pytest.mark.parametrize("n", [0, 3, 55, 56, 64, 119, 200])
def test_sha_extend_and_compress_match_hashlib(n):
    message = bytes((7 * i + 1) & 0xFF for i in range(n))
    assert _sha256_via_precompiles(message) == hashlib.sha256(message).digest()


@pytest.mark.parametrize("n", [0, 1, 100, 135])
def test_keccak_permute_matches_hashlib_sha3_256(n):
    """SHA3-256 of a one-block message = the first 32 bytes of Keccak-f(padded block)."""
    message = bytes((5 * i + 3) & 0xFF for i in range(n))
    block = bytearray(message + bytes(136 - n))
    block[n] ^= 0x06
    block[135] ^= 0x80
    e = run([syscall(KECCAK, DATA_BASE), write(3, DATA_BASE, 200)], data=bytes(block) + bytes(64))
    assert e.journal[:32] == hashlib.sha3_256(message).digest()


def test_keccak_permute_twice_matches_two_block_sha3():
    """A two-block message: absorb block 1, permute, xor block 2 (in Python), permute."""
    message = bytes(range(200))
    padded = bytearray(message + bytes(272 - 200))
    padded[200] ^= 0x06
    padded[271] ^= 0x80
    first = run([syscall(KECCAK, DATA_BASE), write(3, DATA_BASE, 200)], data=bytes(padded[:136]) + bytes(64)).journal
    state = bytes(a ^ b for a, b in zip(first, bytes(padded[136:]) + bytes(64)))
    second = run([syscall(KECCAK, DATA_BASE), write(3, DATA_BASE, 200)], data=state).journal
    assert second[:32] == hashlib.sha3_256(message).digest()
