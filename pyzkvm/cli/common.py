"""Helpers shared by the subcommands: --input specs, loading programs, output."""

from __future__ import annotations

from ..fileio import write_atomically  # noqa: F401  (re-exported for the subcommands)
from ..inputs import INPUT_SPEC_HELP, parse_input_spec, parse_input_specs  # noqa: F401  (re-exported)
from ..errors import UsageError


def parse_inputs(specs: list[str] | None) -> list[bytes]:
    return parse_input_specs(specs)


def add_input_args(parser) -> None:
    parser.add_argument("--input", "-i", action="append", metavar="SPEC", help=INPUT_SPEC_HELP)


def printable_text(data: bytes) -> str | None:
    """``data`` as text when it is printable UTF-8, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text and all(c.isprintable() or c in "\n\t\r" for c in text) else None


def shown(value) -> str:
    """A value a receipt supplies (a backend's version label, a param), as it may be printed:
    itself when every character is printable, else its repr — a newline or terminal escape in
    a prover's label must not draw lines of its own (a forged "exit code: 0" row)."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def positive_int(text: str, *, most: int | None = None) -> int:
    """argparse type: a positive integer (decimal or 0x/0o/0b), at most ``most``."""
    import argparse

    from ..inputs import parse_integer

    try:
        n = parse_integer(text[1:] if text.startswith("-") else text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if n <= 0 or text.startswith("-"):
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    if most is not None and n > most:
        raise argparse.ArgumentTypeError(f"{text} is over the largest accepted value, {most} (docs/limits.md)")
    return n


def segment_cycles_arg(text: str) -> int:
    """argparse type of --segment-cycles: a positive integer, at most the cycle limit's most (a
    value past i64 failed only after the proving, when the receipt was written)."""
    from ..limits import MAX_CYCLES_LIMIT

    return positive_int(text, most=MAX_CYCLES_LIMIT)


def add_limit_args(parser) -> None:
    """--max-cycles and the caps on what the guest may write (docs/limits.md)."""
    from ..limits import MAX_CYCLES_LIMIT

    def cycles(text):
        return positive_int(text, most=MAX_CYCLES_LIMIT)

    parser.add_argument("--max-cycles", type=cycles, metavar="N",
                        help="stop with an error after N cycles (default 2^26, at most 2^40)")
    add_output_cap_args(parser)


def add_output_cap_args(parser) -> None:
    """--max-output/--max-journal/--max-hint: the caps on what the guest may write (docs/limits.md)."""
    from ..limits import DEFAULT_MAX_HINT_BYTES, DEFAULT_MAX_JOURNAL_BYTES, DEFAULT_MAX_OUTPUT_BYTES

    parser.add_argument("--max-output", type=positive_int, metavar="BYTES",
                        help=f"cap on the guest's stdout + stderr (default {DEFAULT_MAX_OUTPUT_BYTES >> 20} MiB)")
    parser.add_argument("--max-journal", type=positive_int, metavar="BYTES",
                        help=f"cap on the guest's journal (public values) (default {DEFAULT_MAX_JOURNAL_BYTES >> 20} MiB)")
    parser.add_argument("--max-hint", type=positive_int, metavar="BYTES",
                        help=f"cap on bytes the guest writes to its hint fd or to SP1's hooks, their answers "
                             f"included (default {DEFAULT_MAX_HINT_BYTES >> 20} MiB)")


def add_stark_args(parser) -> None:
    """--no-zk and --preset: the stark backend's proof options (docs/backend-guide.md)."""
    parser.add_argument("--no-zk", action="store_true",
                        help="stark: a transparent proof instead of a zero-knowledge one (14-23 %% faster and 6-9 %% "
                        "smaller at 2^16-2^20 cycles, bench/results/stark_prove.md, but its openings reveal trace values: "
                        "registers, memory, private input; docs/backend-guide.md)")
    parser.add_argument("--preset", metavar="NAME",
                        help="stark: the security preset (default: default_100_bits_zk, hiding). compact_100_bits_zk / "
                        "compact_100_bits (transparent): blowup 16, 20 queries instead of 41 (42 transparent), about 40 %% "
                        "fewer proof bytes for a slower prove and more memory; blowup8_100_bits[_zk] between them; each >= 100 "
                        "bits (docs/backend-guide.md). --no-zk picks the preset's transparent twin")


def stark_options(args, backend: str) -> dict:
    """The backend options --no-zk and --preset ask for ({"zk": False}, {"preset": NAME}),
    refused for a backend other than stark, an unknown preset refused before anything runs."""
    options: dict = {}
    if args.no_zk:
        if backend != "stark":
            raise UsageError(f"--no-zk is a stark option; the {backend} backend has no zero-knowledge mode to turn off")
        options["zk"] = False
    if args.preset is not None:
        if backend != "stark":
            raise UsageError(f"--preset is a stark option; the {backend} backend has no security presets")
        from ..backends.stark import config_for_preset

        config_for_preset(args.preset)  # an unknown name or an unsupported blowup fails before running
        options["preset"] = args.preset
    return options


def output_caps(args) -> dict:
    """The caps --max-output/--max-journal/--max-hint give (only those given)."""
    caps = {"output": args.max_output, "journal": args.max_journal, "hint": args.max_hint}
    return {k: v for k, v in caps.items() if v is not None}


def apply_output_caps(args) -> None:
    """Make the --max-output/--max-journal/--max-hint values the caps of every run in this process."""
    from ..executor.host import set_default_caps

    set_default_caps(**output_caps(args))


#: Help of every command's ELF argument (a path, or a prebuilt guest's name).
ELF_HELP = "the RV32IM guest executable: a path, or a prebuilt guest's name such as fibonacci ('pyzkvm guests')"


def guest_elf(spec: str, abi: str = "sp1") -> str:
    """The ELF path a command's ELF argument names: the path itself when it exists, else the
    prebuilt guest of that name (pyzkvm/guests/prebuilt.py)."""
    from ..guests.prebuilt import require_guest

    return str(require_guest(spec, abi))


#: ``--abi`` choices of every command that runs or proves a guest: the SP1 version profiles
#: (pyzkvm/executor/sp1_versions.py) and risc0.
ABI_CHOICES = ("sp1", "sp1@5", "sp1@4", "sp1@4.0", "sp1@3", "risc0")
ABI_HELP = ("guest ABI profile: sp1 (SP1 v5, the default), sp1@N for an older SP1's behaviour (docs/abi.md), "
            "or risc0; without it, an ELF that names its sp1-zkvm version runs under that version's profile")


def add_abi_arg(parser, help: str = ABI_HELP) -> None:
    """--abi with the versioned SP1 profiles; None when not given (the ELF may name its version)."""
    parser.add_argument("--abi", choices=ABI_CHOICES, default=None, help=help)


def load_guest(spec: str, abi: str | None):
    """The Program a command's ELF argument and --abi name. The image ID depends only on the
    ABI family (sp1/risc0); the SP1 version profile (given, or read from the ELF by
    Program.from_elf) rides along as ``Program.sp1_profile`` for the executor."""
    from ..program import Program

    path = guest_elf(spec, (abi or "sp1").split("@")[0])
    program = Program.from_elf(path, abi=abi)  # it refuses a device, a FIFO or an oversized file
    if abi is None:
        say_named_version(path)
    return program, path


def say_named_version(path) -> None:
    """On stderr: the sp1-zkvm version the ELF names and the profile Program.from_elf took for it."""
    import sys

    from ..executor.sp1_versions import detect_sp1_version
    from ..fileio import read_file
    from ..limits import MAX_ELF_FILE_BYTES

    found = detect_sp1_version(read_file(path, limit=MAX_ELF_FILE_BYTES, what="ELF"))
    if found is not None:
        print(f"note: the ELF was built with sp1-zkvm {found[0]}: running under ABI profile {found[1]} "
              "(--abi to choose)", file=sys.stderr)


def dev_mode_note(receipt) -> str:
    """Why a receipt is NOT a proof, or "": it is a dev-mode receipt, or a receipt inside it is
    (a proof of a claim that assumes a dev-mode receipt's is proved no further than that one:
    composition.is_dev_only). A backend not installed here counts as proving: verify refuses it."""
    from ..backends import get_backend
    from ..composition import is_dev_only
    from ..errors import PyzkvmError

    def produces_proofs(name: str) -> bool:
        try:
            return get_backend(name).produces_proofs
        except PyzkvmError:
            return True

    if receipt.dev_mode or not produces_proofs(receipt.backend):
        return "dev mode: NOT a proof"
    if is_dev_only(receipt, produces_proofs):
        return "a dev-mode receipt inside: NOT a proof"
    return ""
