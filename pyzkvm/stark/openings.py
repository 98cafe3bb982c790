"""Which columns are opened at ζω: only those the constraints read at the next row.

The out-of-domain check needs a column's value at ζω only if some constraint reads that column
at the next row (``b.main_next``, ``b.prep_next``, the LogUp running sum's next value). The
proof sends those values and no others (about 40 % of the ζω values of the machine's tables
are never read), and the DEEP codeword has a ζω term only for them:

    D(x) = Σ_i c_i·(f_i(x) − f_i(ζ))/(x − ζ) + Σ_(j read at next) c_j·(f_j(x) − f_j(ζω))/(x − ζω)

Both sides keep deep.deep_layout's full numbering (one coefficient per base column per point,
deep.deep_coefficients) and set the coefficients of the unread ζω columns to zero
(``zero_unread_coefficients``): the same codeword as leaving those terms out, with the layout
unchanged. An F_p^4 column (aux, quotient: ``EXT_GROUPS``) is opened as one F_p^4 value, not
its 4 base columns' (deep.py). The verifier's constraint
evaluation sees the full-width ζω rows with zeros in the unread columns
(``full_width``): no constraint reads them, so no claimed value is missing. The columns read
are a property of the AIR's constraint DAG, which the verifying key's digest binds.
"""

from __future__ import annotations

import numpy as np

#: the column groups a constraint can read at the next row
NEXT_GROUPS = ("prep", "main", "aux")
#: the groups committed as F_p^4 columns, 4 base columns f_c each (the LogUp columns, the
#: quotient's chunks and masks): opened as one F_p^4 value f(z) = Σ_c X^c·f_c(z) per column
EXT_GROUPS = ("aux", "quotient")


def opened_width(group: str, base_width: int) -> int:
    """How many values a group of ``base_width`` committed base columns opens at a point."""
    return base_width // 4 if group in EXT_GROUPS else base_width


def next_row_columns(compiled) -> dict:
    """group → sorted base-column indices (int64) read at the next row by any node of the
    AIR's DAG (an F_p^4 aux column j is base columns 4j … 4j+3). Cached on the compiled AIR."""
    cached = getattr(compiled, "_next_row_columns", None)
    if cached is not None:
        return cached
    read: dict[str, set[int]] = {g: set() for g in NEXT_GROUPS}
    for node in compiled.builder.nodes:  # every node, used or not: never fewer than the tape reads
        if node.op in read and node.args[1] != 0:
            read[node.op].add(int(node.args[0]))
    read["aux"] = {4 * j + c for j in read["aux"] for c in range(4)}
    out = {g: np.array(sorted(read[g]), dtype=np.int64) for g in NEXT_GROUPS}
    compiled._next_row_columns = out
    return out


def full_width(values: np.ndarray, columns: np.ndarray, width: int) -> np.ndarray:
    """(k, 4) values of the read columns → (width, 4), zero in the columns not read."""
    out = np.zeros((width, 4), dtype=np.uint32)
    out[columns] = values
    return out


def full_width_next(compiled, layout_entry, open_next: dict) -> dict:
    """A table's ζω openings (only the read columns) at full width per group, for the DEEP
    codeword (``layout_entry``: the table's deep_layout pair); an F_p^4 group's in F_p^4
    columns (read base columns 4j … 4j+3 are column j)."""
    read = next_row_columns(compiled)
    return {g: full_width(open_next[g], read[g][::4] // 4, width // 4) if g in EXT_GROUPS else
            full_width(open_next[g], read[g], width) for g, (_start, width) in layout_entry[1].items()}


def zero_unread_coefficients(coeffs: np.ndarray, layout: list, columns_per_table: list) -> np.ndarray:
    """A copy of the DEEP coefficients with the ζω coefficient of every column not read at the
    next row set to zero (``layout``: deep.deep_layout's, one entry per table)."""
    out = np.array(coeffs, dtype=np.uint32, copy=True)
    unread = np.zeros(out.shape[0], dtype=bool)  # every ζω coefficient, less the columns read (below)
    read = []
    for (_local, nxt), columns in zip(layout, columns_per_table, strict=True):
        for g, (start, width) in nxt.items():
            unread[start:start + width] = True
            read.append(start + columns[g])
    if read:
        unread[np.concatenate(read)] = False
    out[unread] = 0
    return out
