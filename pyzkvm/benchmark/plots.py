"""Log-log plots of the comparison: prove time and receipt size against cycles, one line per
backend. Needs matplotlib (the optional ``bench`` extra); ``write_plots`` raises ImportError
without it and the report says so instead of plotting.

Axes are labelled in the units a reader thinks in (ms and s, B and KB, 2^k cycles), and each
line's legend says what its receipts are worth (dev mode, or the conjectured bits).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

PLOTS = {
    "compare_prove_time.png": ("prove_s", "prove time (log scale)", "Prove time against cycles"),
    "compare_proof_size.png": ("size_bytes", "receipt size (log scale)", "Receipt size against cycles"),
}


def _seconds_label(s: float) -> str:
    if s >= 1:
        return f"{s:g} s"
    if s >= 1e-3:
        return f"{s * 1e3:g} ms"
    return f"{s * 1e6:g} µs"


def _bytes_label(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:g} MB"
    if n >= 1e3:
        return f"{n / 1e3:g} KB"
    return f"{n:g} B"


def _legend_label(name: str, results: dict) -> str:
    """``trace (dev mode: not a proof)`` or ``stark (104 bits)``: what the line's receipts are worth."""
    info = results["backends"].get(name, {})
    if info.get("produces_proofs") is False:
        return f"{name} (dev mode: not a proof)"
    bits = sorted(r["security_bits"] for r in results["proofs"]
                  if r["backend"] == name and r.get("security_bits") is not None)
    if bits:
        span = f"{bits[0]:.0f}" if round(bits[0]) == round(bits[-1]) else f"{bits[0]:.0f}–{bits[-1]:.0f}"
        return f"{name} ({span} bits)"
    return name


def write_plots(results: dict, out_dir: Path) -> list[Path]:
    """Write one PNG per entry of PLOTS into ``out_dir``; return their paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # ImportError without matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from ..fileio import write_atomically

    written = []
    for filename, (key, ylabel, title) in PLOTS.items():
        lowest = highest = None
        fig = Figure(figsize=(7.5, 4.8))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for backend in results["backends"]:
            points = sorted(
                (r["cycles"], r[key]) for r in results["proofs"]
                if r["backend"] == backend and r["status"] == "ok" and r.get(key)
            )
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", label=_legend_label(backend, results))
                lowest = min(ys) if lowest is None else min(lowest, *ys)
                highest = max(ys) if highest is None else max(highest, *ys)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        # 2^k ticks on x; decades on y, written as 1 ms / 10 s or 100 B / 100 KB
        ax.xaxis.set_major_locator(LogLocator(base=2, numticks=20))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"$2^{{{round(math.log2(x))}}}$"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=15))
        label = _seconds_label if key == "prove_s" else _bytes_label
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _, label=label: label(y)))  # this plot's label
        ax.yaxis.set_minor_formatter(NullFormatter())
        if lowest is not None and highest is not None:  # whole decades, so a labelled tick lies beyond every point
            ax.set_ylim(10 ** math.floor(math.log10(lowest)), 10 ** math.ceil(math.log10(highest * 1.0001)))
        ax.set_xlabel("cycles (measured, log scale)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title} — fibonacci guest")
        ax.grid(True, which="major", alpha=0.4)
        ax.grid(True, which="minor", alpha=0.1)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        path = Path(out_dir) / filename
        write_atomically(path, buf.getvalue())
        written.append(path)
    return written
