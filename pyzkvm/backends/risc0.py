"""The ``risc0`` backend: prove a guest with the real RISC Zero toolchain (``r0vm``).

RISC Zero is a separate zkVM with its own ABI, so this backend runs guests built for pyzkvm's
``risc0`` ABI profile (DESIGN.md §3; load them with ``Program.from_elf(path, abi="risc0")``).
One proof is four tool calls (docs/crosscheck.md has the sources these command lines come
from, risc0/risc0 ``risc0/r0vm/src/lib.rs``)::

    risc0-helper wrap --elf GUEST --out GUEST.bin      # RISC Zero >= 2.0: "R0BF" ProgramBinary (ELF + kernel)
    r0vm --elf GUEST.bin --id                          # RISC Zero's image ID (hex), kept in params
    r0vm --elf GUEST.bin --initial-input INPUT --receipt OUT --receipt-kind composite
         (env RUST_LOG=info RISC0_INFO=1, and RISC0_DEV_MODE=1 in dev mode: cycle and segment lines on stderr)
    risc0-helper inspect --receipt OUT                 # journal and exit code from the bincode receipt

``r0vm`` has no verify command, so verification calls the helper back::

    risc0-helper verify --receipt OUT --image-id HEX   # Receipt::verify_integrity + image ID check

The helper is a small Rust crate shipped as source (pyzkvm/backends/risc0_helper/), built once
with cargo into the user cache (or named by $PYZKVM_RISC0_HELPER). Parsing RISC Zero's bincode
receipt in Python would tie pyzkvm to one serde layout of every inner receipt kind; the helper
uses RISC Zero's own types instead.

The receipt's seal is the whole receipt file exactly as r0vm wrote it. The claim's image ID is
pyzkvm's image ID of the same program; RISC Zero's own image ID is ``params["risc0_image_id"]``
and verification recomputes it from the ELF, which is what links the two.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import BackendUnavailable, ToolchainError, UnsupportedProgram, UsageError, VerificationError
from ..receipt import Claim, Receipt
from . import _subprocess as sp
from .base import Availability, Backend, ProgressCallback, dev_mode_enabled

R0VM_ENV = "RISC0_R0VM"
HELPER_ENV = "PYZKVM_RISC0_HELPER"
HELPER_CRATE = Path(__file__).with_name("risc0_helper")
HELPER_BINARY = "risc0-helper"

#: Supported r0vm versions: >= 1.2, < 4 (docs/crosscheck.md).
SUPPORTED = ((1, 2, 0), (4, 0, 0))
#: The r0vm the crosscheck workflow installs (its RISC0_VERSION; tests/test_risc0_adapter.py
#: keeps the two equal): the version the install hint names, as a bare `rzup install` would
#: fetch the newest r0vm, which may be outside SUPPORTED.
TESTED_VERSION = "2.3.1"
INSTALL_HINT = (
    f"install r0vm {TESTED_VERSION} (supported: >= 1.2, < 4) with "
    f"`curl -L https://risczero.com/install | bash && rzup install r0vm {TESTED_VERSION}`"
)
NOT_FOUND = f"r0vm not found on PATH (or {R0VM_ENV}): {INSTALL_HINT}"
#: From 2.0 on, r0vm loads a ProgramBinary (magic "R0BF": user ELF + kernel), not a bare ELF.
PROGRAM_BINARY_SINCE = (2, 0, 0)
PROGRAM_BINARY_MAGIC = b"R0BF"

RECEIPT_KINDS = ("composite", "succinct", "groth16")

_SEGMENTS = re.compile(r"number of segments:\s*(\d+)")
_TOTAL = re.compile(r"(\d+) total cycles")
_USER = re.compile(r"(\d+) user cycles")


def parse_session_log(log: str) -> dict:
    """Segments, total and user cycles from r0vm's RISC0_INFO log lines (missing -> absent).

    RISC Zero's session logger (``SessionStats``) prints, at INFO level::

        number of segments: 1
        65536 total cycles
        12345 user cycles (18.84%)
    """
    text = sp.strip_ansi(log)
    found = {}
    for key, pattern in (("segments", _SEGMENTS), ("total_cycles", _TOTAL), ("user_cycles", _USER)):
        m = pattern.search(text)
        if m:
            found[key] = int(m[1])
    return found


def risc0_input_stream(inputs: Sequence[bytes]) -> bytes:
    """The bytes r0vm's guest reads from stdin (fd 0): the input elements, one after another.

    This is the same stream pyzkvm's executor serves to a risc0-profile guest, so both runs see
    the same input. Each element is passed as it is: encode structured values in RISC Zero's
    serde words first (u32 = one little-endian word, u64 = low word then high word, bytes =
    length word then bytes padded to 4; ``u32:N`` and ``u64:N`` inputs already are).
    """
    return b"".join(bytes(x) for x in inputs)


class Risc0Backend(Backend):
    """Proves risc0-profile guests with RISC Zero's ``r0vm`` and verifies with its verifier."""

    name = "risc0"
    produces_proofs = True
    verify_needs_program = True
    proves_cycles = False  # the proof binds the journal and the exit, not the cycle count

    # ---- finding the tools -------------------------------------------------------------------

    def _r0vm(self) -> str:
        path = sp.find_tool("r0vm", R0VM_ENV)
        if path is None:
            override = os.environ.get(R0VM_ENV)
            if override:  # (as the helper's and sp1's overrides say it: not "not found on PATH")
                raise BackendUnavailable(f"{R0VM_ENV}={override} is not an executable file")
            raise BackendUnavailable(NOT_FOUND)
        return path

    def r0vm_version(self, timeout: float | None = None) -> tuple[tuple[int, int, int], str]:
        """(parsed, printed) version of r0vm; ToolchainError when it is outside SUPPORTED."""
        run = sp.run_tool([self._r0vm(), "--version"], tool="r0vm", timeout=sp.tool_timeout(timeout))
        text = sp.last_line(run.stdout or run.stderr)
        version = sp.parse_version(text, "r0vm")
        sp.check_version(version, *SUPPORTED, "r0vm")
        return version, text

    def _helper(self, *, build: bool) -> str:
        override = os.environ.get(HELPER_ENV)
        if override:
            path = sp.find_tool(HELPER_BINARY, HELPER_ENV)
            if path is None:
                raise BackendUnavailable(f"{HELPER_ENV}={override} is not an executable file")
            return path
        built = sp.built_helper_path(HELPER_CRATE, HELPER_BINARY)
        if built.is_file():
            return str(built)
        if not build:
            if sp.find_tool("cargo") is None:
                raise BackendUnavailable(
                    f"cargo not found: the risc0 host helper ({HELPER_CRATE.name}) is built with cargo; "
                    "install Rust from https://rustup.rs (or set PYZKVM_RISC0_HELPER)"
                )
            return ""  # buildable on first use
        return str(sp.build_helper(HELPER_CRATE, HELPER_BINARY, tool="risc0 host helper"))

    def availability(self) -> Availability:
        """Available when r0vm is installed in a supported version and the helper can be had."""
        try:
            _, printed = self.r0vm_version(timeout=min(60.0, sp.tool_timeout()))
            self._helper(build=False)
        except (BackendUnavailable, ToolchainError) as exc:
            return Availability(False, str(exc))
        return Availability(True, version=printed)

    # ---- proving -----------------------------------------------------------------------------

    def prove(
        self,
        program,
        inputs: Sequence[bytes] = (),
        *,
        progress: ProgressCallback | None = None,
        receipt_kind: str = "composite",
        dev_mode: bool | None = None,
        timeout: float | None = None,
        elf: str | os.PathLike | bytes | None = None,
        **options,
    ) -> Receipt:
        """Prove one run of ``program`` on ``inputs`` with r0vm and return its receipt.

        Options: ``receipt_kind`` (composite, succinct, groth16), ``dev_mode`` (RISC0_DEV_MODE=1:
        a fake receipt, fast, not a proof), ``timeout`` (seconds per tool call), ``elf`` (the
        guest ELF file; by default one is rebuilt from the program's segments).
        """
        self.reject_options(options, "prove")
        if receipt_kind not in RECEIPT_KINDS:
            raise UsageError(f"unknown risc0 receipt kind {receipt_kind!r}: use {', '.join(RECEIPT_KINDS)}")
        if program.abi != "risc0":
            raise UnsupportedProgram(
                f"the risc0 backend runs guests built for the risc0 ABI profile, not {program.abi!r}: "
                "load it with abi='risc0' (CLI: --abi risc0 or crosscheck --risc0-elf)"
            )
        report = progress or (lambda step, fraction: None)
        dev = dev_mode_enabled(dev_mode)
        timeout = sp.tool_timeout(timeout)
        version, printed = self.r0vm_version(timeout)
        r0vm = self._r0vm()
        with tempfile.TemporaryDirectory(prefix="pyzkvm-risc0-") as tmp:
            tmpdir = Path(tmp)
            report("load program", 0.0)
            guest = self._program_binary(program, elf, version, tmpdir, timeout)
            image_id = self._image_id(r0vm, guest, timeout)
            stdin = tmpdir / "input.bin"
            stdin.write_bytes(risc0_input_stream(inputs))
            receipt_path = tmpdir / "receipt.bin"
            # RISC0_DEV_MODE always set: the caller's RISC0_DEV_MODE=1 made r0vm write a fake
            # receipt that prove and inspect reported as a proof (a review, session 27)
            env = {"RUST_LOG": "info", "RISC0_INFO": "1", "NO_COLOR": "1", "RISC0_DEV_MODE": "1" if dev else "0"}
            report("prove", 0.1)
            run = sp.run_tool(
                [r0vm, "--elf", str(guest), "--initial-input", str(stdin), "--receipt", str(receipt_path),
                 "--receipt-kind", receipt_kind],
                tool="r0vm", timeout=timeout, env=env,
            )  # fmt: skip
            if not receipt_path.is_file():
                raise ToolchainError(f"r0vm exited without writing a receipt ({sp.last_line(run.stderr)})")
            seal = receipt_path.read_bytes()
            report("read receipt", 0.9)
            info = self._call_helper(["inspect", "--receipt", str(receipt_path)], timeout, dev=dev,
                                     required=("journal", "exit_code", "image_id"))  # fmt: skip
        journal = sp.hex_field(info, "journal", HELPER_BINARY)
        exit_code = sp.int_field(info, "exit_code", HELPER_BINARY, (1 << 32) - 1)
        seal_image_id = sp.hex_field(info, "image_id", HELPER_BINARY, 32)
        if seal_image_id != image_id:
            raise ToolchainError(
                f"r0vm proved image {seal_image_id.hex()} but `r0vm --id` said {image_id.hex()}; mismatched tools?"
            )
        stats = parse_session_log(run.stderr + "\n" + run.stdout)
        cycles = stats.get("user_cycles", 0)
        params = {
            "receipt_kind": receipt_kind,
            "dev_mode": dev,
            "risc0_image_id": image_id.hex(),
            **{k: v for k, v in stats.items()},
        }
        report("done", 1.0)
        claim = Claim.for_execution(program.image_id, journal, exit_code, cycles)
        return Receipt(claim, journal, self.name, printed, params, seal)

    def _program_binary(self, program, elf, version, tmpdir: Path, timeout: float) -> Path:
        """The file r0vm loads: the guest ELF, wrapped as a ProgramBinary for RISC Zero >= 2.0."""
        user = sp.write_guest_elf(program, tmpdir / "guest.elf", elf)
        if version < PROGRAM_BINARY_SINCE or user.read_bytes()[:4] == PROGRAM_BINARY_MAGIC:
            return user
        out = tmpdir / "guest.bin"
        self._call_helper(["wrap", "--elf", str(user), "--out", str(out)], timeout)
        if not out.is_file() or out.read_bytes()[:4] != PROGRAM_BINARY_MAGIC:
            raise ToolchainError(
                f"{HELPER_BINARY} wrap did not write a RISC Zero ProgramBinary (R0BF): r0vm >= 2.0 needs "
                "the user ELF combined with the v1compat kernel"
            )
        return out

    def _image_id(self, r0vm: str, guest: Path, timeout: float) -> bytes:
        """RISC Zero's image ID of ``guest`` from ``r0vm --elf GUEST --id`` (64 hex digits)."""
        run = sp.run_tool([r0vm, "--elf", str(guest), "--id"], tool="r0vm --id", timeout=timeout)
        text = sp.last_line(run.stdout)
        if not re.fullmatch(r"(0x)?[0-9a-fA-F]{64}", text):
            raise ToolchainError(f"r0vm --id printed {text[:80]!r}, expected a 32-byte hex image ID")
        return bytes.fromhex(text[-64:])

    def _call_helper(self, args: list[str], timeout: float, *, dev: bool = False, required=()) -> dict:
        helper = self._helper(build=True)
        env = {"RISC0_DEV_MODE": "1"} if dev else {"RISC0_DEV_MODE": "0"}
        run = sp.run_tool([helper, *args], tool=HELPER_BINARY, timeout=timeout, env=env)
        return sp.parse_json_line(run.stdout, HELPER_BINARY, required)

    # ---- verifying ---------------------------------------------------------------------------

    def verify(
        self,
        receipt: Receipt,
        image_id: bytes,
        *,
        program=None,
        elf: str | os.PathLike | bytes | None = None,
        dev_mode: bool | None = None,
        timeout: float | None = None,
        **options,
    ) -> None:
        """Check the claim, then have RISC Zero's verifier check the seal.

        The seal (RISC Zero's receipt) names RISC Zero's image ID; ``program`` (the risc0-profile
        Program, or ``elf``, its file) is needed to recompute that ID and link it to ``image_id``.
        A dev-mode (fake) RISC Zero receipt passes only with dev mode on.
        """
        self.reject_options(options, "verify")
        self.check_claim(receipt, image_id)
        program = sp.program_to_verify_against(
            program, elf, "risc0", image_id,
            "a risc0 receipt is verified against the guest, so that RISC Zero's image ID can be recomputed",
        )
        dev = sp.mock_verification(receipt, dev_mode_enabled(dev_mode), "with RISC0_DEV_MODE=1")
        timeout = sp.tool_timeout(timeout)
        version, _ = self.r0vm_version(timeout)
        with tempfile.TemporaryDirectory(prefix="pyzkvm-risc0-") as tmp:
            tmpdir = Path(tmp)
            guest = self._program_binary(program, elf, version, tmpdir, timeout)
            risc0_id = self._image_id(self._r0vm(), guest, timeout)
            if receipt.params.get("risc0_image_id") != risc0_id.hex():
                raise VerificationError(
                    f"RISC Zero image ID mismatch: receipt names {receipt.params.get('risc0_image_id')}, "
                    f"the guest is {risc0_id.hex()}"
                )
            path = tmpdir / "receipt.bin"
            path.write_bytes(receipt.seal)
            result = self._call_helper(
                ["verify", "--receipt", str(path), "--image-id", risc0_id.hex()], timeout, dev=dev,
                required=("verified",),
            )  # fmt: skip
        if result.get("verified") is not True:
            reason = result.get("reason") or "no reason given"
            raise VerificationError(f"RISC Zero verifier rejected the receipt: {reason}")
        journal = sp.hex_field(result, "journal", HELPER_BINARY)
        if hashlib.sha256(journal).digest() != receipt.claim.journal_digest:
            raise VerificationError("the journal RISC Zero proved differs from the receipt's journal")
        if sp.int_field(result, "exit_code", HELPER_BINARY, (1 << 32) - 1) != receipt.claim.exit_code:
            raise VerificationError("the exit code RISC Zero proved differs from the receipt's claim")
        # RISC Zero's exit is Halted(code) or Paused(code); a pyzkvm claim says the run halted,
        # so a paused run's receipt (whose "exit code 0" would read as success) is not its claim
        if result.get("halt") != "halted":
            raise VerificationError(
                f"the RISC Zero receipt records a {result.get('halt')!r} run, not a halted one: a pyzkvm claim "
                "describes a run that halted")
