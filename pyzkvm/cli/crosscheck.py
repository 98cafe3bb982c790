"""``pyzkvm crosscheck``: run one guest on several provers and compare what they claim.

Every requested backend that is available here proves the run and verifies its own receipt;
the journals (by SHA-256) and exit codes must then agree across backends. Disagreement is
the point of the command: it means one of the zkVMs (or pyzkvm's interpreter) computes
something different for the same program and input. Exit status: 0 when every backend that
ran agrees, 1 when two disagree or one failed (the message names them), 2 for usage errors.

RISC Zero runs guests built for pyzkvm's ``risc0`` ABI profile, SP1 the ``sp1`` profile, so
a guest is usually built twice: ``ELF`` (with ``--abi``, default sp1) for pyzkvm and SP1, and
``--risc0-elf`` for RISC Zero. See docs/crosscheck.md.

RISC Zero and SP1 refuse to prove a guest that exits non-zero. When one of them fails to prove
and pyzkvm's executor runs that same program on the same input to a non-zero exit code, the
refusal is the expected answer: the row says "refused: guest exits N (agrees)" and it is not
a failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field

from ..backends._subprocess import TIMEOUT_ENV
from ..errors import PyzkvmError, UsageError
from ..units import format_size
from .common import add_abi_arg, add_input_args, guest_elf, load_guest, parse_inputs
from .progress import escape, progress_reporter

ORDER = 70

DEFAULT_BACKENDS = "trace,stark,risc0,sp1"
#: Backends whose tools take the shared options (dev mode, timeout, the ELF file).
_EXTERNAL = ("risc0", "sp1")


@dataclass
class Outcome:
    """One backend's row: whether it ran, what its receipt claims, and whether it verified."""

    backend: str
    available: bool
    reason: str = ""
    elf: str = ""
    abi: str = ""
    journal_sha256: str = ""
    journal_hex: str = ""
    exit_code: int | None = None
    cycles: int | None = None
    prove_s: float | None = None
    proof_bytes: int | None = None
    verified: str = ""  # "yes", "no", "dev (not a proof)", "refused"
    error: str = ""
    refused_exit_code: int | None = None  # the tool refused a guest pyzkvm runs to this non-zero exit
    installed: bool = True  # False: the backend's toolchain is missing (else unavailable: the guest's build does not fit it)
    notes: list[str] = field(default_factory=list)

    @property
    def has_claim(self) -> bool:
        return self.exit_code is not None


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "crosscheck",
        help="prove one guest on several backends and check that they agree",
        description=(
            "Run ELF on every available backend in --backends (prove, then verify each receipt) and "
            "compare journals (SHA-256) and exit codes. Exit status 1 when two backends disagree or one "
            "fails. RISC Zero needs a build of the guest for the risc0 ABI profile (--risc0-elf, or "
            "--abi risc0 for ELF itself); SP1 runs sp1-profile ELFs unchanged. Trace receipts are dev-mode "
            "receipts: they are checked in dev mode and shown as 'dev (not a proof)'."
        ),
    )
    p.add_argument("elf", metavar="ELF", help="guest ELF (built for --abi): a path or a prebuilt guest's name")
    add_input_args(p)
    p.add_argument("--backends", metavar="LIST",
                   help=f"comma-separated backends to run (default {DEFAULT_BACKENDS}: those installed here; "
                        "one named here that is not installed is a failure, exit status 1)")
    add_abi_arg(p, help="ABI profile ELF was built for (default sp1; sp1@N for an older SP1's executor behaviour, "
                        "or the version the ELF names: docs/abi.md)")
    p.add_argument("--risc0-elf", metavar="ELF", help="the same guest built for the risc0 ABI profile, for RISC Zero")
    p.add_argument("--risc0-input", action="append", metavar="SPEC",
                   help="input for the --risc0-elf build, in RISC Zero's serde words (repeatable; same SPEC forms "
                        "as --input; default: the --input values, which is right for u32:/u64: inputs)")
    p.add_argument("--dev-mode", action="store_true",
                   help="run risc0/sp1 in their dev modes (RISC0_DEV_MODE=1, SP1 mock prover): fast, not proofs")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="deadline for each external tool call (default $PYZKVM_TOOL_TIMEOUT or 3600)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=run_crosscheck)


def run_crosscheck(args) -> int:
    from ..program import Program

    chosen = args.backends is not None  # (the default runs what is installed; a list given must run)
    args.backends = DEFAULT_BACKENDS if args.backends is None else args.backends
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    if not names:
        raise UsageError("--backends is empty: name at least one backend, e.g. trace,risc0")
    if len(set(names)) != len(names):
        raise UsageError(f"--backends names a backend twice: {args.backends}")
    if args.timeout is not None and not (args.timeout > 0 and args.timeout < float("inf")):
        raise UsageError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    if args.timeout is not None:
        # The deadline also covers the availability probes (``r0vm --version``), which take no options.
        os.environ[TIMEOUT_ENV] = str(args.timeout)
    if args.risc0_input is not None and not args.risc0_elf:
        raise UsageError("--risc0-input is the input of the --risc0-elf build: pass --risc0-elf ELF too")
    inputs = parse_inputs(args.input)
    # A risc0-profile guest reads one stream of serde words, so a byte string needs its length
    # word there (u32:/u64: inputs are the same bytes under both profiles; docs/guests.md).
    risc0_inputs = parse_inputs(args.risc0_input) if args.risc0_input is not None else inputs
    main, args.elf = load_guest(args.elf, args.abi)
    if args.risc0_elf:
        args.risc0_elf = guest_elf(args.risc0_elf, "risc0")
    risc0_program = Program.from_elf(args.risc0_elf, abi="risc0") if args.risc0_elf else None

    with progress_reporter(f"crosscheck on {len(names)} backend(s)") as report:
        outcomes = [
            _run_one(name, args, main, risc0_program, risc0_inputs if name == "risc0" and risc0_program else inputs,
                     _share(report, name, k, len(names)))
            for k, name in enumerate(names)
        ]
    mismatches = compare_claims(outcomes)
    failures = [f"{o.backend}: {o.error}" for o in outcomes if o.error]
    refused = [o for o in outcomes if o.refused_exit_code is not None]
    if chosen:  # --backends named them: one not installed is a failure (the default runs what is installed)
        failures += [f"{o.backend}: {o.reason}" for o in outcomes if not o.installed]
    if args.json:
        print(json.dumps({
            "elf": args.elf,
            "risc0_elf": args.risc0_elf,
            "inputs": len(inputs),
            "risc0_inputs": len(risc0_inputs),
            "backends": [asdict(o) for o in outcomes],
            "agree": not mismatches,
            "mismatches": mismatches,
            "failures": failures,
        }, indent=2))  # fmt: skip
    else:
        _print_table(outcomes)
        ran = sum(o.has_claim for o in outcomes)
        for line in mismatches:
            print(f"MISMATCH: {line}")
        for line in failures:
            print(f"FAILED: {line}")
        if not mismatches and not failures:
            also = f"; {len(refused)} refused the failing guest, as pyzkvm's run says they should" if refused else ""
            if ran >= 2 or (ran and refused):
                print(f"agree: {ran} backend{'s' if ran > 1 else ''} proved the same journal and exit code{also}")
            elif refused:
                who = ", ".join(o.backend for o in refused)
                print(f"agree: {who} refused a guest that exits {refused[0].refused_exit_code}, as pyzkvm's run says")
            else:
                print(f"nothing to compare: only {ran} backend ran here (see the reasons above)")
    return 1 if mismatches or failures else 0


def _program_for(name: str, args, main, risc0_program):
    """(program, ELF path) the backend runs, or (None, reason) when this build does not fit it."""
    if name == "risc0":
        if risc0_program is not None:
            return risc0_program, args.risc0_elf
        if main.abi == "risc0":
            return main, args.elf
        return None, "needs the guest built for the risc0 ABI profile: pass --risc0-elf ELF (or --abi risc0)"
    if name == "sp1" and main.abi != "sp1":
        return None, "SP1 runs sp1-profile guests: ELF is --abi risc0; cross-check it with trace/stark/risc0"
    return main, args.elf


def _share(report, name: str, k: int, n: int):
    """Backend k's progress(step, fraction) as its share (k/n .. (k+1)/n) of the whole bar."""
    return lambda step, fraction: report(f"{name}: {step}", (k + max(0.0, min(1.0, fraction))) / n)


def _run_one(name: str, args, main, risc0_program, inputs, report=lambda step, fraction: None) -> Outcome:
    """Prove and verify on backend ``name``; every failure is recorded, never raised."""
    from ..backends import backend_status, get_backend

    status = backend_status(name)
    if not status.availability:
        return Outcome(name, False, status.availability.reason, installed=False)
    program, elf = _program_for(name, args, main, risc0_program)
    if program is None:
        return Outcome(name, False, elf)
    # pyzkvm's backends run the SP1 version profile (e.g. sp1@3); SP1 and RISC Zero run their own executors
    out = Outcome(name, True, elf=elf, abi=program.abi if name in _EXTERNAL else program.profile)
    prove_opts, verify_opts = {}, {}
    if name in _EXTERNAL:
        prove_opts = {"dev_mode": args.dev_mode, "timeout": args.timeout, "elf": elf}
        verify_opts = {"dev_mode": args.dev_mode, "timeout": args.timeout, "program": program, "elf": elf}
    try:
        backend = get_backend(name)
        if not backend.produces_proofs:
            verify_opts = {"dev_mode": True}
        started = time.perf_counter()
        report("prove", 0.0)
        # the prover's own steps fill 90 % of this backend's share; verification the rest
        receipt = backend.prove(program, inputs, progress=lambda step, f: report(f"prove: {step}", 0.9 * f),
                                **prove_opts)
        out.prove_s = time.perf_counter() - started
    except PyzkvmError as exc:
        out.error = f"prove failed: {exc}"
        # The tools refuse by exiting with an error status whose message names the guest's exit
        # code ("sp1-runner crashed (exit code 1): ... HaltWithNonZeroExitCode(3)"); a hang, a
        # signal, a bad version or any other crash is never taken for a refusal
        if name in _EXTERNAL:
            _accept_refusal(out, program, inputs, refused_exit_code(str(exc)))
        return out
    except Exception as exc:  # a broken (plug-in) backend must not take the whole cross-check down
        out.error = f"prove failed: internal error in backend {name!r}: {type(exc).__name__}: {exc}"
        return out
    claim = receipt.claim
    out.journal_sha256 = claim.journal_digest.hex()
    out.journal_hex = receipt.journal.hex()
    out.exit_code = claim.exit_code
    out.cycles = claim.cycles
    out.proof_bytes = len(receipt.seal)
    dev = not backend.produces_proofs or bool(receipt.params.get("dev_mode"))
    try:
        # A dev-mode backend prints a warning when it accepts its receipt; the table says it instead.
        report("verify", 0.9)
        with contextlib.redirect_stderr(io.StringIO()) if dev else contextlib.nullcontext():
            backend.verify(receipt, program.image_id, **verify_opts)
    except PyzkvmError as exc:
        out.verified = "no"
        out.error = f"verify failed: {exc}"
        return out
    except Exception as exc:
        out.verified = "no"
        out.error = f"verify failed: internal error in backend {name!r}: {type(exc).__name__}: {exc}"
        return out
    out.verified = "dev (not a proof)" if dev else "yes"
    return out


#: a tool's crash that is its refusal of a guest's exit code: "TOOL crashed (exit code K): ...",
#: its last line naming the guest's code (SP1's HaltWithNonZeroExitCode(N), "exit code N")
_REFUSAL = re.compile(r"^\S+ crashed \(exit code \d+\): .*?(?:NonZeroExitCode\(|exit code )(\d+)")


def refused_exit_code(message: str) -> int | None:
    """The guest exit code a tool's crash message says it refused, or None (any other failure:
    a crash of a helper or of the version check that names no exit code is no refusal; a review,
    session 27, found every crash taken for one)."""
    m = _REFUSAL.match(message)
    return int(m[1]) if m else None


def _accept_refusal(out: Outcome, program, inputs, refused: int | None) -> None:
    """RISC Zero and SP1 prove only runs that exit 0. If the tool's message refuses exit code
    ``refused`` and pyzkvm's executor runs ``program`` on ``inputs`` to that same non-zero exit
    code, the refusal agrees with it: record the exit code and clear the failure. Otherwise (no
    code named, another code, exit 0, or pyzkvm faults too) the failure stands."""
    from ..executor import execute

    if refused is None:
        return
    try:
        run = execute(program, list(inputs))
    except PyzkvmError:
        return
    if run.exit_code != 0 and run.exit_code == refused:
        out.refused_exit_code = run.exit_code
        out.reason = f"refused: guest exits {run.exit_code} (agrees)"
        out.notes.append(out.error)  # what the tool said, kept for --json
        out.verified = "refused"
        out.error = ""


def compare_claims(outcomes: list[Outcome]) -> list[str]:
    """One line per backend whose journal or exit code differs from the first backend's (a
    refusal counts with the exit code pyzkvm ran that backend's build to)."""
    ran = [o for o in outcomes if o.has_claim]
    refused = [o for o in outcomes if o.refused_exit_code is not None]
    if not ran and not refused:
        return []
    lines = []
    first = ran[0] if ran else refused[0]
    ref_name, ref_code = first.backend, first.exit_code if ran else first.refused_exit_code
    for o in refused:
        if o.refused_exit_code != ref_code:
            lines.append(f"{ref_name} and {o.backend} disagree on the exit code: {ref_code} vs "
                         f"{o.refused_exit_code} (pyzkvm's run of the build {o.backend} refused)")
    if not ran:
        return lines
    ref = ran[0]
    for o in ran[1:]:
        if o.journal_sha256 != ref.journal_sha256:
            lines.append(
                f"{ref.backend} and {o.backend} disagree on the journal: "
                f"sha256 {ref.journal_sha256[:16]}… vs {o.journal_sha256[:16]}…"
            )
        if o.exit_code != ref.exit_code:
            lines.append(f"{ref.backend} and {o.backend} disagree on the exit code: {ref.exit_code} vs {o.exit_code}")
    return lines


def _print_table(outcomes: list[Outcome]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="pyzkvm crosscheck")
    for col in ("backend", "available", "journal sha256", "exit", "cycles", "prove", "proof", "verified"):
        table.add_column(col, no_wrap=True)
    table.add_column("note", overflow="fold", ratio=1)
    for o in outcomes:
        table.add_row(*map(escape, (  # cells hold tool messages: print their brackets as they are
            o.backend,
            "yes" if o.available else "no",
            o.journal_sha256[:16] + "…" if o.journal_sha256 else "",
            "" if o.exit_code is None else str(o.exit_code),
            "" if o.cycles is None else f"{o.cycles:,}",
            "" if o.prove_s is None else f"{o.prove_s:.2f} s",
            "" if o.proof_bytes is None else format_size(o.proof_bytes),
            # a refusal that agrees is a verdict, shown whole (the note column wraps)
            o.reason if o.refused_exit_code is not None else o.verified,
            "" if o.refused_exit_code is not None else o.error or o.reason,
        )))
    Console(file=sys.stdout, width=max(120, Console().width)).print(table)

