"""ELF → Program: a validated memory image, an entry point, symbols and the image ID.

A guest program is an ELF32 little-endian RISC-V executable (ET_EXEC) without the RVC
(compressed instructions) flag. Every PT_LOAD segment is loaded (bytes beyond ``p_filesz`` up
to ``p_memsz`` are zero). Segment permissions are *not* enforced: real SP1 guests keep
writable statics in segments marked read-only.

The **image ID** (version 2) names the program to a verifier who holds nothing else. For an
sp1- or risc0-profile program it is the digest of the STARK machine's verifying key for the program
(pyzkvm/machine/image_id.py, docs/machine.md §8.1): the digest of every table's constraints,
the Merkle root of the preprocessed program table (decoded instructions, entry point), memory
image and byte table, the table layouts and the number of public values. It does not depend
on the security preset. Every backend (trace, stark, risc0, sp1, composition) reports this
same ID. Computing it sets up the machine AIR once (≈ 0.3 s, cached per ELF and process).

Fallback: for programs the machine AIR cannot represent — code placed above 0x77E00000 — the image ID is the *content digest* (the version-1 formula): a BLAKE3
digest over the ABI profile, the entry point and the memory image as (address, word) pairs::

    content_digest = BLAKE3( "pyzkvm.image_id.v1" ‖ u8(len(abi)) ‖ abi
                             ‖ u32le(entry) ‖ u32le(n_words)
                             ‖ for each word in address order: u32le(address) ‖ u32le(word) )

where the words are every aligned 32-bit word covered by a PT_LOAD segment (zero-filled
``.bss`` words included). No backend can produce a STARK proof for such a program, so the
two kinds of ID never name the same statement.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import blake3
import numpy as np

from .errors import ProgramError, UsageError
from .fileio import read_file
from .limits import MAX_ELF_FILE_BYTES, MAX_IMAGE_BYTES

#: Guest addresses must lie in [MEM_LO, MEM_HI): above the zero page, below the BabyBear prime.
MEM_LO = 0x20
MEM_HI = 0x78000000

ABI_PROFILES = ("sp1", "risc0")

_EM_RISCV = 243
_EF_RISCV_RVC = 0x1


#: computes a program's image ID (the ``image_id`` property): set once by the package
#: (pyzkvm/__init__.py) to backends.image_id.program_image_id, so that Program does not import
#: the machine AIR, which sits above it
_image_id_of = None


def use_image_id(function) -> None:
    """Set the function ``Program.image_id`` calls (program → 32 bytes)."""
    global _image_id_of
    _image_id_of = function


#: the widest span of executable segments a program may have, in words (64 MiB): what the
#: executor pre-decodes as one code range (Program.executable_span)
MAX_CODE_WORDS = 1 << 24


@dataclass(frozen=True)
class Segment:
    """One loaded PT_LOAD segment: ``data`` holds ``memsz`` bytes (zero-filled past filesz)."""

    vaddr: int
    data: bytes
    flags: int

    @property
    def end(self) -> int:
        return self.vaddr + len(self.data)

    @property
    def words(self) -> tuple[int, int]:
        """The byte range [lo, hi) of the aligned words it touches (its ends rounded out to 4)."""
        return self.vaddr & ~3, (self.end + 3) & ~3


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    kind: str  # "func", "object", "notype"


@dataclass(frozen=True)
class Program:
    """A guest program: entry point, memory image (segments) and symbols."""

    entry: int
    segments: tuple[Segment, ...]
    symbols: tuple[Symbol, ...] = ()
    abi: str = "sp1"
    name: str = "program"
    #: the executor profile within the ABI family, e.g. "sp1@3" for an SP1 v3 guest (docs/abi.md,
    #: "SP1 versions"); None runs ``abi`` itself. Behaviour only: not part of the image ID.
    sp1_profile: str | None = field(default=None, compare=False)
    # computed once (image_id, content_digest, circuit_key); not init fields, so that a Program
    # made with dataclasses.replace computes its own rather than sharing the original's
    _image_id: list = field(default_factory=list, init=False, repr=False, compare=False)
    _content_digest: list = field(default_factory=list, init=False, repr=False, compare=False)
    _circuit_key: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self):
        # every way to build a Program, not only the ELF loader (which refuses such segments before
        # reading them): an image word below MEM_LO would be a memory key the proof keeps for
        # itself (machine/syscall.py: HINT_LEN's promise cells); and code too spread out to run
        for seg in self.segments:
            if seg.vaddr < MEM_LO or seg.end > MEM_HI:
                raise ProgramError(f"{self.name}: segment [0x{seg.vaddr:x}, 0x{seg.end:x}) lies outside guest memory "
                                   f"[0x{MEM_LO:x}, 0x{MEM_HI:x})")
        self.executable_span()

    @property
    def profile(self) -> str:
        """The ABI profile the executor runs this program under (``sp1_profile`` or ``abi``)."""
        return self.sp1_profile or self.abi

    # ---- construction -----------------------------------------------------------------

    @classmethod
    def from_elf(cls, source: str | os.PathLike | bytes, abi: str | None = None) -> "Program":
        """Load and validate an RV32IM guest ELF from a path or raw bytes.

        ``abi``: ``"sp1"`` (SP1 v5's behaviour), ``"risc0"``, or an SP1 version profile
        (``"sp1@5"``, ``"sp1@4"``, ``"sp1@4.0"``, ``"sp1@3"``; docs/abi.md, "SP1 versions").
        None (the default): the sp1 family, run under the profile of the sp1-zkvm version the ELF
        names in its panic-location strings (``sp1_profile``), as the CLI does without ``--abi``.
        So an ELF built for SP1 v3 or v4.0, whose runs the stark proof does not follow, is refused
        by a stark prove and by a verify given this Program, whichever way it was loaded."""
        from .executor.sp1_versions import VERSIONS, detect_sp1_version

        if abi is not None and abi not in ABI_PROFILES and abi not in VERSIONS:
            raise ProgramError(f"unknown ABI profile {abi!r}: use one of {', '.join(dict.fromkeys((*ABI_PROFILES, *VERSIONS)))}")
        if isinstance(source, (bytes, bytearray, memoryview)):
            data, name = bytes(source), "program"
            label = name
        elif not isinstance(source, (str, os.PathLike)):
            raise UsageError(f"Program.from_elf takes a path or the ELF's bytes, not {type(source).__name__}")
        else:
            path = Path(source)
            data = read_file(path, limit=MAX_ELF_FILE_BYTES, what="ELF", error=ProgramError)
            name, label = path.stem, str(source)
        family = (abi or "sp1").split("@")[0]
        named = detect_sp1_version(data) if abi is None else None
        profile = abi if abi is not None else (named[1] if named else family)
        return _parse_elf(data, family, name, sp1_profile=None if profile == family else profile, label=label)

    # ---- views ------------------------------------------------------------------------

    def executable_span(self) -> tuple[int, int] | None:
        """[lo, hi): the word-aligned span of the executable (PF_X) segments, gaps included, or
        None when no segment is marked executable. The executor pre-decodes this span as its one
        code range and the proof's program table holds the executable words in it: the two must
        agree on what can run, so a span wider than MAX_CODE_WORDS words is a ProgramError (the
        executor once decoded only the entry segment there and ended an SP1 run where the far
        segment began, while the AIR ran on into it)."""
        exe = [s for s in self.segments if s.flags & 1]
        if not exe:
            return None
        lo, hi = min(s.vaddr for s in exe) & ~3, (max(s.end for s in exe) + 3) & ~3
        if (hi - lo) // 4 > MAX_CODE_WORDS:
            raise ProgramError(f"{self.name}: executable segments span [0x{lo:x}, 0x{hi:x}), more than "
                               f"{MAX_CODE_WORDS * 4 >> 20} MiB: link the guest's code into one range")
        # a segment that is not executable inside the span would be run by the executor (it decodes the
        # whole span) and not by the proof (its program table holds executable words only)
        for seg in self.segments:
            start, end = max(lo, seg.words[0]), min(hi, seg.words[1])
            if seg.flags & 1 or start >= end:
                continue
            for x_start, x_end in sorted(x.words for x in exe):  # what no executable segment covers of it
                if x_start <= start < x_end:
                    start = x_end
            if start < end:
                raise ProgramError(f"{self.name}: a segment that is not executable, [0x{seg.vaddr:x}, 0x{seg.end:x}), "
                                   f"lies between the executable segments' [0x{lo:x}, 0x{hi:x}): link the guest's "
                                   "code into one range, its data after it")
        return lo, hi

    @property
    def image_end(self) -> int:
        """First address past the highest loaded segment (where the heap begins)."""
        return max(s.end for s in self.segments)

    def image_words(self) -> tuple[np.ndarray, np.ndarray]:
        """Every aligned word covered by a segment: (addresses, words), sorted by address."""
        addrs, words = [], []
        for seg in self.segments:
            start, end = seg.words
            buf = bytearray(end - start)
            buf[seg.vaddr - start : seg.vaddr - start + len(seg.data)] = seg.data
            addrs.append(np.arange(start, end, 4, dtype=np.uint32))
            words.append(np.frombuffer(bytes(buf), dtype="<u4").astype(np.uint32))
        a = np.concatenate(addrs)
        w = np.concatenate(words)
        order = np.argsort(a, kind="stable")
        a, w = a[order], w[order]
        # Two segments may share a boundary word (non-aligned ends): merge by OR, they do not overlap in bytes.
        if len(a) > 1 and np.any(a[1:] == a[:-1]):
            uniq, inv = np.unique(a, return_inverse=True)
            merged = np.zeros(len(uniq), dtype=np.uint32)
            np.bitwise_or.at(merged, inv, w)
            a, w = uniq.astype(np.uint32), merged
        return a, w

    @property
    def content_digest(self) -> bytes:
        """BLAKE3 over the ABI profile, entry point and memory image (the version-1 formula, see
        the module docstring): the image ID fallback, and the key of the image ID cache."""
        if not self._content_digest:
            addrs, words = self.image_words()
            h = blake3.blake3(b"pyzkvm.image_id.v1")
            h.update(bytes([len(self.abi)]) + self.abi.encode())
            h.update(int(self.entry).to_bytes(4, "little") + len(addrs).to_bytes(4, "little"))
            h.update(np.stack([addrs, words], axis=1).astype("<u4").tobytes())
            self._content_digest.append(h.digest())
        return self._content_digest[0]

    @property
    def circuit_key(self) -> bytes:
        """The key of every cache of this program's circuit (image ID, circuit digests, proving
        key; machine/image_id.py, memo.py, dist.py): BLAKE3 over the content digest and the
        executable (PF_X) segments' ranges. The proof's program table holds exactly the
        executable words, so one memory image with other PF_X flags is another circuit, and
        another image ID: keyed on the content digest alone, a program with a data segment
        found the ID of its twin whose segment was executable (a red-team forgery, session 25)."""
        if not self._circuit_key:
            h = blake3.blake3(b"pyzkvm.program.circuit_key.v1")
            h.update(self.content_digest)
            for seg in sorted((s.vaddr, s.end) for s in self.segments if s.flags & 1):
                h.update(seg[0].to_bytes(4, "little") + seg[1].to_bytes(4, "little"))
            self._circuit_key.append(h.digest())
        return self._circuit_key[0]

    @property
    def image_id(self) -> bytes:
        """The 32-byte image ID (version 2, see the module docstring): the digest of the machine
        AIR's verifying key for this program, or the content digest for programs the machine
        cannot represent (code above 0x77E00000)."""
        if not self._image_id:
            if _image_id_of is None:  # pragma: no cover - pyzkvm/__init__.py sets it on import
                raise RuntimeError("no image ID function: import pyzkvm (it calls program.use_image_id)")
            self._image_id.append(_image_id_of(self))
        return self._image_id[0]

    def symbol_at(self, address: int) -> Symbol | None:
        """The function symbol containing ``address``, if any."""
        for s in self.symbols:
            if s.kind == "func" and s.address <= address < s.address + max(s.size, 1):
                return s
        return None

    def find_symbol(self, name: str) -> Symbol | None:
        for s in self.symbols:
            if s.name == name:
                return s
        return None

    def read_bytes(self, address: int, length: int) -> bytes:
        """Bytes of the initial image (zero outside every segment)."""
        out = bytearray(length)
        for seg in self.segments:
            lo, hi = max(address, seg.vaddr), min(address + length, seg.end)
            if lo < hi:
                out[lo - address : hi - address] = seg.data[lo - seg.vaddr : hi - seg.vaddr]
        return bytes(out)


def _parse_elf(data: bytes, abi: str, name: str, sp1_profile: str | None = None, label: str | None = None) -> Program:
    """The Program named ``name`` in ``data``; its errors name ``label`` (the file as the user gave
    it: ``sub/fibonacci`` is not the prebuilt fibonacci guest), default ``name``."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    label = name if label is None else label

    if len(data) < 4 or data[:4] != b"\x7fELF":
        raise ProgramError(f"{label}: not an ELF file (bad magic): give a RISC-V ELF executable")
    if len(data) < 52:
        raise ProgramError(f"{label}: truncated ELF header ({len(data)} bytes, 52 needed): the file is cut short; build or copy it again")
    if data[4] != 1:
        raise ProgramError(f"{label}: ELF class is not 32-bit: build for rv32im (-march=rv32im -mabi=ilp32)")
    if data[5] != 1:
        raise ProgramError(f"{label}: ELF is not little-endian: RISC-V guests are little-endian")
    try:
        elf = ELFFile(io.BytesIO(data))
        header = elf.header
        machine = int.from_bytes(data[18:20], "little")
        if machine != _EM_RISCV:
            raise ProgramError(f"{label}: ELF machine is {header['e_machine']}, not RISC-V: build for rv32im (-march=rv32im -mabi=ilp32)")
        if header["e_type"] != "ET_EXEC":
            raise ProgramError(f"{label}: ELF type is {header['e_type']}, expected an executable (ET_EXEC); link the guest")
        if header["e_flags"] & _EF_RISCV_RVC:
            raise ProgramError(f"{label}: ELF uses compressed (RVC) instructions; build with -march=rv32im (no 'c')")
        phoff, phnum, phentsize = header["e_phoff"], header["e_phnum"], header["e_phentsize"]
        if phnum == 0:
            raise ProgramError(f"{label}: ELF has no program headers (nothing to load): give a linked executable")
        if phoff + phnum * phentsize > len(data):
            raise ProgramError(f"{label}: truncated ELF: program headers run past the end of the file")
        loads = [elf.get_segment(i).header for i in range(phnum)]
        image_bytes = sum(ph["p_memsz"] for ph in loads if ph["p_type"] == "PT_LOAD")
        if image_bytes > MAX_IMAGE_BYTES:  # checked before any zero-fill is built
            raise ProgramError(
                f"{label}: the loadable segments span {image_bytes:,} bytes of memory (p_memsz), over the "
                f"{MAX_IMAGE_BYTES:,}-byte image limit (docs/limits.md); allocate large buffers on the heap"
            )
        segments = []
        for i, ph in enumerate(loads):
            if ph["p_type"] != "PT_LOAD":
                continue
            off, filesz, memsz, vaddr = ph["p_offset"], ph["p_filesz"], ph["p_memsz"], ph["p_vaddr"]
            if filesz > memsz:  # (before an empty segment is skipped: p_memsz 0 with bytes in the file)
                raise ProgramError(f"{label}: segment {i} has filesz > memsz (a malformed ELF): link the guest again")
            if memsz == 0:
                continue
            if off + filesz > len(data):
                raise ProgramError(f"{label}: truncated ELF: segment {i} (offset 0x{off:x}, {filesz} bytes) runs past the end of the file")
            if vaddr < MEM_LO or vaddr + memsz > MEM_HI:
                raise ProgramError(
                    f"{label}: segment {i} [0x{vaddr:x}, 0x{vaddr + memsz:x}) lies outside guest memory "
                    f"[0x{MEM_LO:x}, 0x{MEM_HI:x}); fix the linker script"
                )
            body = data[off : off + filesz] + bytes(memsz - filesz)
            segments.append(Segment(vaddr, body, ph["p_flags"]))
        if not segments:
            raise ProgramError(f"{label}: ELF has no loadable (PT_LOAD) segment: give a linked executable")
        segments.sort(key=lambda s: s.vaddr)
        for a, b in zip(segments, segments[1:]):
            if b.vaddr < a.end:
                raise ProgramError(
                    f"{label}: overlapping segments at 0x{a.vaddr:x} and 0x{b.vaddr:x}; fix the linker script"
                )
        entry = header["e_entry"]
        if entry % 4 or not any(s.vaddr <= entry < s.end for s in segments):
            raise ProgramError(f"{label}: entry point 0x{entry:x} is not an aligned address inside a loaded segment: link the guest with its entry symbol in its code")
        try:
            symbols = _read_symbols(elf)
        except Exception as exc:  # noqa: BLE001 - pyelftools' own errors, whatever their type
            raise ProgramError(f"{label}: malformed ELF section headers ({exc}): the file is damaged; "
                               "build or copy the guest again") from None
    except ProgramError:
        raise
    except (ELFError, ValueError, KeyError, IndexError, AttributeError, TypeError, Exception) as exc:  # noqa: B014
        raise ProgramError(f"{label}: malformed ELF ({exc}): the file is damaged; build or copy the guest again") from None
    return Program(entry=entry, segments=tuple(segments), symbols=symbols, abi=abi, name=name, sp1_profile=sp1_profile)


def _read_symbols(elf) -> tuple[Symbol, ...]:
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None:
        return ()
    kinds = {"STT_FUNC": "func", "STT_OBJECT": "object", "STT_NOTYPE": "notype"}
    out = []
    for sym in symtab.iter_symbols():
        kind = kinds.get(sym["st_info"]["type"])
        if kind is None or not sym.name or sym["st_shndx"] == "SHN_UNDEF":
            continue
        out.append(Symbol(sym.name, sym["st_value"], sym["st_size"], kind))
    out.sort(key=lambda s: (s.address, s.name))
    return tuple(out)


def as_image_id(value) -> bytes:
    """An image ID from 32 bytes, 64 hex digits (optionally 0x-prefixed) or a Program."""
    if isinstance(value, Program):
        return value.image_id
    if isinstance(value, str):
        text = value[2:] if value.lower().startswith("0x") else value
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"bad image ID {value!r}: not hex; give 64 hex digits") from None
        value = raw
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UsageError(f"image ID must be 32 bytes or 64 hex digits, not {type(value).__name__}")
    if len(value) != 32:
        raise UsageError(f"bad image ID: {len(value)} bytes, expected 32 (64 hex digits)")
    return bytes(value)
