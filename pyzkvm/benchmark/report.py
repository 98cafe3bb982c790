"""The benchmark's record: machine facts, compare.json, the compare.md table, the plots."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

from ..errors import PyzkvmError, UsageError
from .plots import PLOTS, write_plots

SCHEMA = "pyzkvm.bench.compare.v1"


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else platform.processor())."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages (None where the OS has none): a shared machine
    slows every row, so each run records how busy it was at its start and end."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def environment() -> dict:
    """What a number depends on: machine, interpreter and library versions."""
    import numba
    import numpy

    from .. import __version__

    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model(),
            "platform": platform.platform(),
        },
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "pyzkvm": __version__,
    }


def prepare_out_dir(out_dir) -> Path:
    """Create the results folder (and parents). A path that is a file (or under one) is a
    UsageError (exit 2: the argument is wrong); a folder that cannot be made or written (a
    read-only file system, no permission) is a PyzkvmError (exit 1, as any file not written)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise UsageError(f"cannot use --out {out} as the results folder: {exc.strerror or exc}") from None
    except OSError as exc:
        raise PyzkvmError(f"cannot create the results folder {out}: {exc.strerror or exc}; "
                          "give --out a folder you can write to") from None
    if not os.access(out, os.W_OK):
        raise PyzkvmError(f"cannot write to the results folder {out}: permission denied; "
                          "give --out a folder you can write to")
    return out


def write_results(results: dict, out_dir) -> list[Path]:
    """Write compare.json, the PNG plots (when matplotlib is installed) and compare.md.

    Adds ``plots`` (file names) and ``plots_note`` to ``results``; every file is written
    through a temporary file and a rename, so none is ever left half-written."""
    from ..fileio import write_atomically

    out = prepare_out_dir(out_dir)
    try:
        plots = write_plots(results, out)
        results["plots"] = [p.name for p in plots]
        results["plots_note"] = ""
    except ImportError:
        # Never leave plots from an older run beside a newer table.
        for name in PLOTS:
            (out / name).unlink(missing_ok=True)
        plots = []
        results["plots"] = []
        results["plots_note"] = "plots not written: matplotlib is not installed (pip install 'pyzkvm[bench]')"
    json_path, md_path = out / "compare.json", out / "compare.md"
    write_atomically(json_path, (json.dumps(results, indent=2, sort_keys=False) + "\n").encode())
    write_atomically(md_path, to_markdown(results).encode())
    return [json_path, md_path, *plots]


# ---- the table ------------------------------------------------------------------------------


def fmt_seconds(s: float | None) -> str:
    """A duration in the unit that suits it: µs, ms or s."""
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_bytes(n: int) -> str:
    """A size as every command prints one (pyzkvm/units.py)."""
    from ..units import format_size

    return format_size(n)


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:,.0f}×" if r >= 1000 else f"{r:.3g}×"


def status_text(row: dict) -> str:
    """"skipped: why" once, whether or not the reason already starts with the status."""
    reason = str(row.get("reason") or "")
    return reason if reason.startswith(row["status"]) else f"{row['status']}: {reason}".rstrip(": ")


def backend_status(info: dict) -> tuple[str, str]:
    """(status, note) of one backend in this run: measured, failed, not available, ..."""
    if info.get("unsupported"):
        return "cannot prove this guest", info["unsupported"]
    if not info.get("available"):
        return "not available", info.get("reason", "")
    if "warmup_s" not in info:
        return "failed", info.get("warmup_error", "")
    version = info.get("backend_version")
    return "measured", f"version {version}" if version else ""


def security_of(name: str, info: dict, rows: list[dict]) -> str:
    """What a backend's receipt is worth: none for dev mode, else the bits its verifier
    reported (lowest to highest over the measured sizes), else the receipt's own claim."""
    params = info.get("params") or {}
    if info.get("produces_proofs") is False:
        return "none (dev mode only)"
    if params.get("dev_mode") is True:
        return "none (this run used the backend's dev mode)"
    mine = [r for r in rows if r["backend"] == name and r.get("security_bits") is not None]
    bits = sorted(r["security_bits"] for r in mine)
    if bits:
        span = f"{bits[0]:.1f}" if bits[0] == bits[-1] else f"{bits[0]:.1f}–{bits[-1]:.1f}"
        if all(r.get("security_source", "verifier") == "verifier" for r in mine):
            return f"{span} bits (verifier-reported, conjectured)"
        return f"{span} bits (conjectured, from the receipts' params; the verifier accepted each)"
    for key in ("security_bits", "conjectured_security_bits"):
        if key in params:
            return f"{params[key]} bits (receipt params)"
    return "the backend's own (see docs/backend-guide.md)" if info.get("available") else "—"


def to_markdown(results: dict) -> str:
    """The human-readable table: backends, single proofs, batches, plots."""
    meta = results["meta"]
    cfg = meta["config"]
    m = meta["machine"]
    sizing = results["sizing"]
    lines = [
        "# Backend comparison: fibonacci guest",
        "",
        f"Measured {meta['date']} with `{meta.get('command') or 'pyzkvm bench'}`"
        + (" (**quick run**: small sizes, few repetitions)" if cfg["quick"] else "")
        + f", in {meta['duration_s']:.0f} s.",
        "",
        f"Machine: {m['cpu_model']}, {m['cpu_count']} CPUs ({m['platform']}); Python {meta['python']}, "
        f"numpy {meta['numpy']}, numba {meta['numba']}, pyzkvm {meta['pyzkvm']}.",
        "",
        *_load_lines(meta),
        f"Guest `{results['guest']['path']}` (image ID `{results['guest']['image_id'][:16]}…`): "
        f"cycles(n) ≈ {sizing['fixed_cycles']:.0f} + {sizing['cycles_per_iteration']:.3f}·n, "
        "fitted from two executions; every cycle count below is measured, not the target. "
        f"Per-proof time budget {cfg['budget_s']:g} s: larger sizes are skipped, and marked so.",
        "",
        "## Backends",
        "",
        "| backend | status | security | first proof in process (warm-up) | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, info in results["backends"].items():
        status, note = backend_status(info)
        security = security_of(name, info, results["proofs"])
        lines.append(f"| {name} | {status} | {security} | {fmt_seconds(info.get('warmup_s'))} | {_cell(note)} |")

    lines += [
        "",
        "## Single proofs",
        "",
        "Prove: median wall time of the runs shown (a warm process). Verify: mean of the runs shown. "
        "× trace: this backend's time divided by the trace backend's on the same row, same run. "
        "Size: the whole encoded receipt (claim, journal, params, seal), and the seal (the proof) alone. "
        "Bits: the conjectured security of that proof (— for dev-mode receipts, which are not proofs).",
        "",
        "| backend | workload | n | cycles | prove | × trace | cycles/s | verify (runs) | × trace | receipt size | bits |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results["proofs"]:
        head = f"| {r['backend']} | {r['label']} | {r['n']:,} | {r['cycles']:,} |"
        if r["status"] != "ok":
            lines.append(f"{head} {_cell(status_text(r))} | | | | | | |")
            continue
        runs = f" ×{r['prove_runs']}" if r["prove_runs"] > 1 else ""
        bits = "—" if r.get("security_bits") is None else f"{r['security_bits']:.1f}"
        lines.append(
            f"{head} {fmt_seconds(r['prove_s'])}{runs} | {fmt_ratio(r['prove_vs_trace'])} | "
            f"{r['cycles_per_s']:,.0f} | {fmt_seconds(r['verify_us'] / 1e6)} ({r['verify_runs']}) | "
            f"{fmt_ratio(r['verify_vs_trace'])} | {fmt_bytes(r['size_bytes'])} (seal {fmt_bytes(r['seal_bytes'])}) | "
            f"{bits} |"
        )

    lines += [
        "",
        "## Batches",
        "",
        f"Inputs n = {cfg['batch_base_n']}, {cfg['batch_base_n'] + 1}, …; each receipt checked against the "
        "Python oracle. Parallel: a spawned process pool; each process warms up (numba cache load, one "
        "small proof) before the clock starts, and that start-up is shown separately.",
        "",
        "| backend | proofs | mode | processes | wall | per proof | proofs/s | × trace | pool start + warm-up |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results["batches"]:
        head = f"| {r['backend']} | {r['proofs']} | {r['mode']} | {r['workers']} |"
        if r["status"] != "ok":
            lines.append(f"{head} {_cell(status_text(r))} | | | | |")
            continue
        startup = fmt_seconds(r["startup_s"]) if r["mode"] == "parallel" else "—"
        lines.append(
            f"{head} {fmt_seconds(r['wall_s'])} | {fmt_seconds(r['per_proof_s'])} | {r['proofs_per_s']:,.1f} | "
            f"{fmt_ratio(r['wall_vs_trace'])} | {startup} |"
        )

    if results.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in results["notes"]]

    lines += ["", "## Plots", ""]
    if results.get("plots"):
        lines += [f"![{name}]({name})" for name in results["plots"]]
    else:
        lines.append(results.get("plots_note") or "no plots")
    if not results.get("ok", True):
        lines += ["", "**Some measurements failed** (see the rows marked failed): this run's exit status is 1."]
    return "\n".join(lines) + "\n"


def _load_lines(meta: dict) -> list[str]:
    start, end = meta.get("load_average_start"), meta.get("load_average_end")
    if not start:
        return []
    text = f"Load average (1/5/15 min) at the start {' / '.join(f'{x:g}' for x in start)}"
    if end:
        text += f", at the end {' / '.join(f'{x:g}' for x in end)}"
    return [text + " (the benchmark itself adds up to its own process count).", ""]


def _cell(text: str) -> str:
    """Text safe inside one markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")
