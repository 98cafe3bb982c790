"""Input encoders against hand-written bytes and struct (bincode 1 and RISC Zero serde
layouts from their specs)."""

from __future__ import annotations

import struct

import pytest

from pyzkvm import inputs
from pyzkvm.errors import UsageError
from pyzkvm.executor import execute
from tests.rvasm import DATA_BASE, flatten, halt, program, syscall


def test_raw_elements():
    assert inputs.u32(10) == b"\x0a\x00\x00\x00"
    assert inputs.u64(2**40 + 1) == struct.pack("<Q", 2**40 + 1)
    assert inputs.raw(b"\x00\xff") == b"\x00\xff"
    assert inputs.text("héllo") == "héllo".encode()


def test_bincode_forms():
    assert inputs.bincode_u32(7) == b"\x07\0\0\0"
    assert inputs.bincode_bool(True) == b"\x01"
    assert inputs.bincode_bytes(b"\x01\x02\x03") == b"\x03" + bytes(7) + b"\x01\x02\x03"
    assert inputs.bincode_str("hi") == b"\x02" + bytes(7) + b"hi"
    assert inputs.bincode_u32s([1, 0xFFFFFFFF]) == b"\x02" + bytes(7) + b"\x01\0\0\0\xff\xff\xff\xff"
    assert inputs.bincode_bytes(b"") == bytes(8)


def test_risc0_serde_words():
    assert inputs.risc0_u32(5) == b"\x05\0\0\0"
    assert inputs.risc0_u64(0x1122334455667788) == bytes.fromhex("8877665544332211")  # low word, high word
    assert inputs.risc0_bytes(b"abcde") == b"\x05\0\0\0abcde\0\0\0"
    assert inputs.risc0_str("abcd") == b"\x04\0\0\0abcd"
    assert inputs.risc0_u32s([1, 2]) == b"\x02\0\0\0\x01\0\0\0\x02\0\0\0"
    assert len(inputs.risc0_bytes(b"x" * 9)) % 4 == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: inputs.u32(-1), lambda: inputs.u32(1 << 32), lambda: inputs.u64(1 << 64), lambda: inputs.u32(True),
        lambda: inputs.u32("5"), lambda: inputs.raw("text"), lambda: inputs.text(b"bytes"),
        lambda: inputs.bincode_bool(1), lambda: inputs.risc0_u32s([1, -2]),
    ],
)  # fmt: skip
def test_bad_values_are_usage_errors(call):
    with pytest.raises(UsageError):
        call()


def test_an_element_reaches_the_guest_unchanged():
    element = inputs.bincode_str("hello, guest")
    code = [syscall(0xF1, DATA_BASE, len(element)), syscall(2, 3, DATA_BASE, len(element))]
    assert execute(program(flatten([code, halt(0)])), [element]).journal == element
