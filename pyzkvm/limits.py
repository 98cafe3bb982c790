"""The limits that keep one pyzkvm command bounded in time and memory on any input.

Each limit fails fast with a one-line error that names it (and the option that raises it,
where there is one) instead of letting a hostile or broken file, or a runaway guest, grow
the host's memory until the machine kills it. docs/limits.md lists them for users.
"""

from __future__ import annotations

MiB = 1 << 20

# ---- files pyzkvm reads -----------------------------------------------------------------

#: An ELF file larger than this is refused before it is read (prebuilt guests are ~10–50 KB,
#: large SP1 guests a few MB).
MAX_ELF_FILE_BYTES = 256 * MiB

#: A receipt file larger than this is refused before it is read (a stark receipt of one
#: 2^20-cycle segment is ~300 KB; a composed receipt carries its inner receipts).
MAX_RECEIPT_FILE_BYTES = 256 * MiB

#: An ``--input file:PATH`` larger than this is refused (the guest must copy every byte into
#: its memory, which is < 2 GiB in all).
MAX_INPUT_FILE_BYTES = 256 * MiB

#: The loaded memory image (the sum of every PT_LOAD segment's p_memsz, zero-fill included).
#: Checked from the program headers, before any segment is built. The machine's tables hold
#: one row per image word and no preset proves a table taller than 2^22 rows (16 MiB of
#: words), so a larger image is one the machine cannot represent. Computing the image ID
#: costs about 2 s and 220 MB per MiB of image (measured: 16 MiB, 34 s CPU, 3.5 GB peak).
MAX_IMAGE_BYTES = 16 * MiB

# ---- what a guest can make the host hold ------------------------------------------------

#: Default caps on what one run may write, per channel. A WRITE past a cap stops the guest
#: with a fault naming the cap and the option that raises it.
DEFAULT_MAX_OUTPUT_BYTES = 64 * MiB  # stdout and stderr together (--max-output)
DEFAULT_MAX_JOURNAL_BYTES = 64 * MiB  # public values (--max-journal)
DEFAULT_MAX_HINT_BYTES = 64 * MiB  # bytes the guest appends to its own input stream (--max-hint)

# ---- cycles -----------------------------------------------------------------------------

#: The largest --max-cycles accepted: 2^40 cycles is days of interpretation, and the
#: interpreter counts cycles in int64.
MAX_CYCLES_LIMIT = 1 << 40


def check_max_cycles(max_cycles) -> int:
    """``max_cycles`` as the library takes it: an int in 1..MAX_CYCLES_LIMIT (the CLI's bound for
    --max-cycles), else UsageError ("10", 1.5 and 2^70 were accepted or failed untyped)."""
    from .errors import UsageError

    if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or not 0 < max_cycles <= MAX_CYCLES_LIMIT:
        raise UsageError(f"max_cycles must be an integer in 1..{MAX_CYCLES_LIMIT} (2^40), got {max_cycles!r}")
    return max_cycles
