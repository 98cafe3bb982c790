"""``pyzkvm trace ELF --steps N``: a step-by-step teaching view of the first N cycles."""

from __future__ import annotations

import numpy as np

from .common import ELF_HELP, add_abi_arg, add_input_args, add_output_cap_args, apply_output_caps, load_guest, parse_inputs

ORDER = 55

#: syscall memory words listed per line; the rest are counted
MAX_EVENTS_SHOWN = 16

HELP = "show the first N cycles step by step: pc, instruction, register writes, memory accesses"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "trace",
        help=HELP,
        description=(
            "Execute ELF with trace capture for at most N cycles and print one line per cycle: the "
            "cycle, pc, the instruction, the register it writes and the memory word it reads or "
            "writes (before → after). Syscalls also list the registers and memory words they touched "
            f"(the first {MAX_EVENTS_SHOWN}). What the guest writes is capped as for run (docs/limits.md). "
            "Exit status 1 when the guest halts with a non-zero code, as for run. "
            "This is the row-by-row trace a prover turns into a proof (see docs/trace.md)."
        ),
        epilog="example: pyzkvm trace guests/bin/fibonacci.elf --steps 40 --input u32:5",
    )
    p.add_argument("elf", metavar="ELF", help=ELF_HELP)
    p.add_argument("--steps", "-n", type=_steps, default=50, metavar="N", help="cycles to show (default 50)")
    add_input_args(p)
    add_abi_arg(p)
    add_output_cap_args(p)  # --steps is its cycle limit
    p.set_defaults(handler=run_trace)


def _steps(text: str) -> int:
    import argparse

    try:
        n = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 1 <= n <= 10_000_000:
        raise argparse.ArgumentTypeError(f"{n} is not in 1..10000000")
    return n


def run_trace(args) -> int:
    from ..executor.run import trace_steps
    from ..isa import ABI_NAMES, disassemble

    program, args.elf = load_guest(args.elf, args.abi)
    apply_output_caps(args)
    trace, halted, io, abi_impl = trace_steps(program, parse_inputs(args.input), args.steps)
    c, ev = trace.columns, trace.syscall_events
    ev_start = np.searchsorted(ev["sys_clk"], c["clk"], side="left")
    ev_end = np.searchsorted(ev["sys_clk"], c["clk"], side="right")
    print(f"{'cycle':>8}  {'pc':>8}  {'instruction':<32} effect")
    for i in range(len(trace)):
        pc, insn = int(c["pc"][i]), int(c["insn"][i])
        effects = []
        rd = int(c["rd"][i])
        if rd:
            effects.append(f"{ABI_NAMES[rd]} ← 0x{int(c['rd_val'][i]):08x}")
        addr, before, after = int(c["mem_addr"][i]), int(c["mem_before"][i]), int(c["mem_after"][i])
        if addr:
            mnemonic = disassemble(insn).split()[0]
            if mnemonic.startswith("s"):
                effects.append(f"mem[0x{addr:08x}] 0x{before:08x} → 0x{after:08x}")
            else:
                effects.append(f"read mem[0x{addr:08x}] = 0x{before:08x}")
        if insn == 0x73:
            effects.append(f"syscall t0=0x{int(c['rs1_val'][i]):x}")
            shown = min(ev_end[i], ev_start[i] + MAX_EVENTS_SHOWN)  # a 64 MiB WRITE reads 16 M words
            for k in range(ev_start[i], shown):
                a, b, f = int(ev["sys_addr"][k]), int(ev["sys_before"][k]), int(ev["sys_after"][k])
                where = ABI_NAMES[a] if a < 32 else f"mem[0x{a:08x}]"
                effects.append(f"{where} = 0x{b:08x}" if b == f else f"{where} 0x{b:08x} → 0x{f:08x}")
            if ev_end[i] > shown:
                effects.append(f"... {ev_end[i] - shown:,} more words")
        nxt = int(c["next_pc"][i])
        jump = f"  → pc 0x{nxt:08x}" if nxt != pc + 4 else ""
        print(f"{int(c['clk'][i]):>8}  {pc:08x}  {disassemble(insn, pc):<32} {'; '.join(effects)}{jump}")
    if halted:
        print(f"-- halted after {len(trace)} cycles with exit code {abi_impl.exit_code}")
        return 0 if abi_impl.exit_code == 0 else 1  # the same rule as run: a non-zero exit is a failure
    print(f"-- stopped after {len(trace)} cycles (--steps); the guest has not halted")
    return 0
