"""One way to print a size, in every command and report: decimal units, as the docs quote them.

    format_size(812)     -> "812 B"
    format_size(12_345)  -> "12.3 KB"      (1 KB = 1000 bytes)
    format_size(7.2e9)   -> "7,200.0 MB"   (memory peaks stay in MB, comparable across rows)

Below 10 000 bytes the exact count is shown; exact counts of anything larger are in each
command's --json output.
"""

from __future__ import annotations


def format_size(n: float) -> str:
    """``n`` bytes as "N B" (below 10 000), else KB (10^3 bytes) below 10^7, else MB (10^6 bytes)."""
    if n < 10_000:
        return f"{int(n):,} B"
    if n < 10_000_000:
        return f"{n / 1e3:,.1f} KB"
    return f"{n / 1e6:,.1f} MB"
