"""Log-log plots of the comparison: prove time and receipt size against cycles, one line per
backend. Needs matplotlib (the optional ``bench`` extra); ``write_plots`` raises ImportError
without it and the report says so instead of plotting.
"""

from __future__ import annotations

import io
from pathlib import Path

PLOTS = {
    "compare_prove_time.png": ("prove_s", "prove time (s)", "Prove time against cycles"),
    "compare_proof_size.png": ("size_bytes", "receipt size (bytes)", "Receipt size against cycles"),
}


def write_plots(results: dict, out_dir: Path) -> list[Path]:
    """Write one PNG per entry of PLOTS into ``out_dir``; return their paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # ImportError without matplotlib
    from matplotlib.figure import Figure

    from ..fileio import write_atomically

    written = []
    for filename, (key, ylabel, title) in PLOTS.items():
        fig = Figure(figsize=(7, 4.5))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for backend in results["backends"]:
            points = sorted(
                (r["cycles"], r[key]) for r in results["proofs"]
                if r["backend"] == backend and r["status"] == "ok" and r.get(key)
            )
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", label=backend)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("cycles (measured)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title} — fibonacci guest")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        path = Path(out_dir) / filename
        write_atomically(path, buf.getvalue())
        written.append(path)
    return written
