"""Every preset's security estimate at its worst case: ``python -m pyzkvm.stark.security``.

The worst case a verifier accepts for the RV32IM machine (pyzkvm/machine): the tallest table
the preset allows (``max_log_height``), the most bus entries any statement may have
(N = p − 1, ``config.MAX_BUS_ENTRIES``: far more than the tallest tables of one segment, and
the cap that bounds a continuation of many segments), the machine's widest bus tuple and all
its constraints. Each term is config.security_bits's (the formula and its sources are in
config.py and docs/stark.md).
"""

from __future__ import annotations

from .config import MAX_BUS_ENTRIES, PRESETS, SecurityEstimate, StarkConfig, security_bits
from .zk import lde_log


def machine_shape() -> tuple:
    """(widest bus tuple incl. bus id, number of constraints) of the machine's AIRs."""
    from ..machine.image_id import _compiled
    from .config import DEFAULT

    compiled = _compiled(DEFAULT)
    width = max(1 + len(it.values) for c in compiled for it in c.interactions)
    return width, sum(len(c.all_constraints) for c in compiled)


def worst_case(config: StarkConfig, bus_width: int, constraints: int) -> SecurityEstimate:
    """The estimate at the tallest table ``config`` allows (its LDE: D·blowup, zk.lde_log) and
    N = p − 1 bus entries."""
    return security_bits(config, lde_log(config, config.log_height_limit), bus_entries=MAX_BUS_ENTRIES,
                         bus_width=bus_width, constraints=constraints)


def table() -> str:
    """A markdown table: every preset's terms at its worst case (machine AIR shape)."""
    width, constraints = machine_shape()
    rows = []
    names = None
    for cfg in PRESETS.values():
        est = worst_case(cfg, width, constraints)
        names = [n for n, _b in est.terms]
        rows.append(f"| `{cfg.name}` | 2^{cfg.log_height_limit} | "
                    + " | ".join(f"{b:.1f}" for _n, b in est.terms) + f" | **{est.bits:.1f}** |")
    assert names is not None  # PRESETS is never empty
    head = "| preset | tallest table | " + " | ".join(names) + " | bits |"
    rule = "| --- " * (len(names) + 3) + "|"
    note = (f"(N = p − 1 = {MAX_BUS_ENTRIES} bus entries, tuples up to {width} elements with the bus id, "
            f"{constraints} constraints: the machine AIR)")
    return "\n".join([head, rule, *rows, "", note])


if __name__ == "__main__":  # pragma: no cover
    print(table())
