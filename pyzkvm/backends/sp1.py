"""The ``sp1`` backend: prove a guest with the real SP1 toolchain (v5.x).

pyzkvm's native ABI is SP1's, so the same guest ELF runs in pyzkvm and in SP1 unchanged.
SP1 v5 has no command line to execute or prove an ELF: its host API is the ``sp1-sdk`` crate
(``ProverClient::from_env()``, ``client.execute(elf, &stdin).run()``, ``client.setup(elf)``,
``client.prove(&pk, &stdin).core()/.compressed().run()``, ``client.verify(&proof, &vk)``). So
pyzkvm ships a small runner crate (pyzkvm/backends/sp1_runner/, source only), built once with
cargo into the user cache (or named by $PYZKVM_SP1_RUNNER). Its command lines::

    sp1-runner --version
    sp1-runner --elf GUEST --stdin STDIN [--prove core|compressed --proof-out PROOF]
    sp1-runner --elf GUEST --verify PROOF

Each prints one JSON line on stdout (see docs/crosscheck.md for every field), e.g.
``{"public_values": "0a00..", "cycles": 1234, "exit_code": 0, "proof": "PROOF", "verified": null,
"vk_hash": "0x00..", "sp1_version": "v5.0.0"}``.

STDIN file: the input elements as bincode's ``Vec<Vec<u8>>`` (u64le count, then each element as
u64le length ‖ bytes); the runner calls ``stdin.write_slice(element)`` for each, which is
exactly the list of byte strings pyzkvm's executor serves through HINT_LEN / HINT_READ.

Dev mode sets ``SP1_PROVER=mock``: SP1's mock prover executes but proves nothing.
The seal is the proof file as ``SP1ProofWithPublicValues::save`` wrote it. Verification needs
the guest ELF (SP1 derives the verifying key from it with ``setup``), which also links the
proof to pyzkvm's image ID of that ELF.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import (
    BackendUnavailable,
    ToolchainError,
    UnsupportedProgram,
    UsageError,
    VerificationError,
)
from ..receipt import Claim, Receipt
from . import _subprocess as sp
from .base import Availability, Backend, ProgressCallback, dev_mode_enabled

RUNNER_ENV = "PYZKVM_SP1_RUNNER"
RUNNER_CRATE = Path(__file__).with_name("sp1_runner")
RUNNER_BINARY = "sp1-runner"

#: Supported SP1 (sp1-sdk) versions: 5.x, the last line whose guests are RV32IM.
SUPPORTED = ((5, 0, 0), (6, 0, 0))
#: The SP1 the crosscheck workflow installs (its SP1_VERSION; tests/test_sp1_adapter.py keeps
#: the two equal): the install hint names it, as a bare `sp1up` installs the newest SP1
#: (6.x and later are RV64IM, outside SUPPORTED).
TESTED_VERSION = "v5.2.4"
INSTALL_HINT = (
    f"install SP1 {TESTED_VERSION} (supported: 5.x) with "
    f"`curl -L https://sp1up.succinct.xyz | bash && sp1up --version {TESTED_VERSION}` (needs cargo)"
)
NOT_FOUND = f"SP1 toolchain not found (no ~/.sp1 and no `cargo prove`; or set {RUNNER_ENV}): {INSTALL_HINT}"

PROOF_KINDS = ("core", "compressed")


def sp1_stdin_bytes(inputs: Sequence[bytes]) -> bytes:
    """The runner's STDIN file: bincode ``Vec<Vec<u8>>`` = u64le(n) ‖ n × (u64le(len) ‖ bytes)."""
    out = bytearray(struct.pack("<Q", len(inputs)))
    for element in inputs:
        element = bytes(element)
        out += struct.pack("<Q", len(element)) + element
    return bytes(out)


def _sp1_toolchain_present() -> bool:
    """SP1 installed: ~/.sp1 (what sp1up creates) or a ``cargo-prove`` on PATH."""
    home = Path(os.environ.get("SP1_DIR") or Path.home() / ".sp1")
    return home.is_dir() or sp.find_tool("cargo-prove") is not None


class Sp1Backend(Backend):
    """Proves sp1-profile guests with SP1 v5 through pyzkvm's sp1-runner."""

    name = "sp1"
    produces_proofs = True
    verify_needs_program = True
    proves_cycles = False  # the proof binds the journal and the exit, not the cycle count

    def _runner(self, *, build: bool) -> str:
        override = os.environ.get(RUNNER_ENV)
        if override:
            path = sp.find_tool(RUNNER_BINARY, RUNNER_ENV)
            if path is None:
                raise BackendUnavailable(f"{RUNNER_ENV}={override} is not an executable file")
            return path
        built = sp.built_helper_path(RUNNER_CRATE, RUNNER_BINARY)
        if built.is_file():
            return str(built)
        if sp.find_tool("cargo") is None:
            raise BackendUnavailable(f"cargo not found; SP1 needs Rust (https://rustup.rs), then {INSTALL_HINT}")
        if not _sp1_toolchain_present():
            raise BackendUnavailable(NOT_FOUND)
        if not build:
            return ""
        return str(sp.build_helper(RUNNER_CRATE, RUNNER_BINARY, tool="sp1 runner"))

    def runner_version(self, timeout: float | None = None) -> str:
        """The sp1-sdk version the runner was built with; ToolchainError outside SUPPORTED."""
        run = sp.run_tool([self._runner(build=True), "--version"], tool=RUNNER_BINARY, timeout=sp.tool_timeout(timeout))
        text = sp.last_line(run.stdout or run.stderr)
        # "sp1-runner 0.1.0 (sp1-sdk 5.0.8)": the SDK version is the one that matters.
        sdk = text.split("sp1-sdk", 1)[1] if "sp1-sdk" in text else text
        sp.check_version(sp.parse_version(sdk, RUNNER_BINARY), *SUPPORTED, "sp1-sdk")
        return text

    def availability(self) -> Availability:
        """Available when the runner exists (or cargo and SP1 are here to build it) in SP1 5.x."""
        try:
            if self._runner(build=False) == "":
                return Availability(True, version="sp1-runner (built on first use)")
            return Availability(True, version=self.runner_version(timeout=min(60.0, sp.tool_timeout())))
        except (BackendUnavailable, ToolchainError) as exc:
            return Availability(False, str(exc))

    def _run(self, args: list[str], timeout: float, dev: bool, required=()) -> dict:
        # SP1_PROVER picks SP1's prover: "mock" (SP1's dev mode) exactly when pyzkvm's dev mode is
        # on, never from the caller's environment — a shell with SP1_PROVER=mock made mock proofs
        # labelled as proofs, and its verifier accepted them (a review, session 27); another
        # choice of the caller's (cuda, network) is kept
        chosen = os.environ.get("SP1_PROVER", "cpu")
        env = {"SP1_PROVER": "mock" if dev else ("cpu" if chosen.strip().lower() == "mock" else chosen), "RUST_LOG": "info"}
        run = sp.run_tool([self._runner(build=True), *args], tool=RUNNER_BINARY, timeout=timeout, env=env)
        return sp.parse_json_line(run.stdout, RUNNER_BINARY, required)

    def prove(
        self,
        program,
        inputs: Sequence[bytes] = (),
        *,
        progress: ProgressCallback | None = None,
        proof_kind: str = "core",
        dev_mode: bool | None = None,
        timeout: float | None = None,
        elf: str | os.PathLike | bytes | None = None,
        **options,
    ) -> Receipt:
        """Prove one run of ``program`` on ``inputs`` with SP1 and return its receipt.

        Options: ``proof_kind`` (core or compressed), ``dev_mode`` (SP1_PROVER=mock: not a
        proof), ``timeout`` (seconds), ``elf`` (the guest file; by default rebuilt from segments).
        """
        self.reject_options(options, "prove")
        if proof_kind not in PROOF_KINDS:
            raise UsageError(f"unknown sp1 proof kind {proof_kind!r}: use {', '.join(PROOF_KINDS)}")
        if program.abi != "sp1":
            raise UnsupportedProgram(f"the sp1 backend runs sp1-profile guests, not {program.abi!r}")
        report = progress or (lambda step, fraction: None)
        dev = dev_mode_enabled(dev_mode)
        timeout = sp.tool_timeout(timeout)
        version = self.runner_version(timeout)
        with tempfile.TemporaryDirectory(prefix="pyzkvm-sp1-") as tmp:
            tmpdir = Path(tmp)
            guest = sp.write_guest_elf(program, tmpdir / "guest.elf", elf)
            stdin = tmpdir / "stdin.bin"
            stdin.write_bytes(sp1_stdin_bytes(inputs))
            proof_path = tmpdir / "proof.bin"
            report("prove", 0.0)
            result = self._run(
                ["--elf", str(guest), "--stdin", str(stdin), "--prove", proof_kind, "--proof-out", str(proof_path)],
                timeout, dev, required=("public_values", "cycles", "exit_code", "proof"),
            )  # fmt: skip
            if not proof_path.is_file():
                raise ToolchainError(f"{RUNNER_BINARY} reported success but wrote no proof to {proof_path}")
            seal = proof_path.read_bytes()
        journal = sp.hex_field(result, "public_values", RUNNER_BINARY)
        cycles = sp.int_field(result, "cycles", RUNNER_BINARY)
        exit_code = sp.int_field(result, "exit_code", RUNNER_BINARY, (1 << 32) - 1)
        params = {"proof_kind": proof_kind, "dev_mode": dev}
        if isinstance(result.get("vk_hash"), str):
            params["sp1_vk_hash"] = result["vk_hash"]
        report("done", 1.0)
        claim = Claim.for_execution(program.image_id, journal, exit_code, cycles)
        return Receipt(claim, journal, self.name, version, params, seal)

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
        """Check the claim, then have SP1 verify the proof against the guest's verifying key.

        SP1 derives the verifying key from the ELF, so ``program`` (or ``elf``) is required; its
        pyzkvm image ID must be ``image_id``. A mock (dev-mode) proof passes only in dev mode.
        """
        self.reject_options(options, "verify")
        self.check_claim(receipt, image_id)
        # SP1 v5 proves only runs that exit with 0 (its executor refuses to finish any other:
        # sp1_runner/src/main.rs), and its proof carries no exit code: a claim of another exit
        # code is not what the proof shows, so it is refused rather than passed through unchecked
        if receipt.claim.exit_code != 0:
            raise VerificationError(
                f"the claim says exit code {receipt.claim.exit_code}, but an SP1 proof covers only a run that "
                "exited with 0: the receipt was altered")
        program = sp.program_to_verify_against(
            program, elf, "sp1", image_id,
            "an sp1 receipt is verified against the guest ELF (SP1 derives its verifying key from it)",
        )
        dev = sp.mock_verification(receipt, dev_mode_enabled(dev_mode), "with the mock prover")
        timeout = sp.tool_timeout(timeout)
        self.runner_version(timeout)
        with tempfile.TemporaryDirectory(prefix="pyzkvm-sp1-") as tmp:
            tmpdir = Path(tmp)
            guest = sp.write_guest_elf(program, tmpdir / "guest.elf", elf)
            proof = tmpdir / "proof.bin"
            proof.write_bytes(receipt.seal)
            result = self._run(["--elf", str(guest), "--verify", str(proof)], timeout, dev, required=("verified",))
        if result.get("verified") is not True:
            raise VerificationError(f"SP1 verifier rejected the proof: {result.get('reason') or 'no reason given'}")
        public_values = sp.hex_field(result, "public_values", RUNNER_BINARY)
        if hashlib.sha256(public_values).digest() != receipt.claim.journal_digest:
            raise VerificationError("the public values SP1 proved differ from the receipt's journal")
