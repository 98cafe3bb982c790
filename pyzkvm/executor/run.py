"""execute(): run a guest program to HALT and collect its Execution."""

from __future__ import annotations

import time
from collections import deque
from functools import partial
from typing import Any, Callable, Iterable

from ..errors import CycleLimitExceeded, UsageError
from ..limits import check_max_cycles
from ..isa import INSTRUCTIONS
from ..program import Program
from .host import HostIO
from .machine import Machine
from .result import Execution, Report, Trace
from .risc0 import Risc0Abi
from .sp1 import Sp1Abi
from .sp1_versions import VERSIONS

#: Default cycle limit: 2^26 ≈ 67 M instructions (about a second of guest time at full speed).
DEFAULT_MAX_CYCLES = 1 << 26

#: profile name → ABI handler factory: "sp1" (latest, v5) and the versioned "sp1@N" (sp1_versions.py)
_PROFILES: dict[str, Callable[..., Any]] = {**{name: partial(Sp1Abi, version=v) for name, v in VERSIONS.items()}, "risc0": Risc0Abi}


def abi_family(profile: str) -> str:
    """"sp1" for every SP1 profile, "risc0" for risc0: what Execution.abi and Program.abi hold."""
    return profile.split("@")[0]


def _run(program, profile, elements, max_cycles, capture, *, stop_at_limit):
    """Drive the hot loop and the ABI profile until HALT (or the cycle limit, when allowed).

    With ``capture`` the guest runs twice: a plain run first (≈10× faster than capturing)
    gives the exact cycle count, so the trace columns are allocated once, at their final size,
    and handed out without copying. Guests are deterministic, so both runs are identical."""
    rows, started = 1, None
    if capture:
        sizing, *_ = _run(program, profile, deque(elements), max_cycles, False, stop_at_limit=stop_at_limit)
        rows, started = sizing.cycle + 1, sizing.started
        del sizing  # free its memory before the second run
    machine = Machine(program, capture_trace=capture, max_cycles=max_cycles, trace_rows=rows)
    io = HostIO(inputs=elements)
    abi_impl = _PROFILES[profile](machine, io)
    machine.warm_up()
    machine.started = started or time.perf_counter()  # with capture, the sizing run counts too
    halted = False
    try:
        while not halted:
            halted = abi_impl.handle_ecall() if machine.run_until_ecall() else abi_impl.end_of_program()
    except CycleLimitExceeded:
        if not stop_at_limit:
            raise
    io.flush(machine.cycle)
    return machine, io, abi_impl, halted


def trace_steps(program: Program, inputs: Iterable[bytes] = (), steps: int = 100, abi: str | None = None):
    """Run at most ``steps`` cycles with trace capture (for teaching views): returns
    (trace, halted, io, abi_impl). A fault inside the window still raises."""
    profile = abi or program.profile
    if profile not in _PROFILES:
        raise UsageError(f"unknown ABI profile {profile!r}: use one of {', '.join(_PROFILES)}")
    machine, io, abi_impl, halted = _run(program, profile, deque(bytes(x) for x in inputs), steps, True, stop_at_limit=True)
    columns, events = machine.trace_columns(copy_events=False)  # the machine ends here: no copy
    return Trace(columns=columns, syscall_events=events), halted, io, abi_impl


def execute(
    program: Program,
    inputs: Iterable[bytes] = (),
    *,
    max_cycles: int = DEFAULT_MAX_CYCLES,
    capture_trace: bool = False,
    abi: str | None = None,
) -> Execution:
    """Run ``program`` from its entry point until HALT, one instruction per cycle.

    ``inputs`` is the hint stream (a list of byte strings, one per element); the ABI profile
    is ``abi`` or else ``program.profile``. Faults raise a GuestFault subclass; a non-zero exit
    code is reported in ``Execution.exit_code``, not raised. With ``capture_trace`` the
    Execution carries the columnar Trace (docs/trace.md).
    """
    profile = abi or program.profile
    if profile not in _PROFILES:
        raise UsageError(f"unknown ABI profile {profile!r}: use one of {', '.join(_PROFILES)}")
    check_max_cycles(max_cycles)
    elements: deque[bytes] = deque()
    for x in inputs:
        if not isinstance(x, (bytes, bytearray, memoryview)):
            raise UsageError(f"input elements must be bytes, got {type(x).__name__}: encode them with pyzkvm.inputs")
        elements.append(bytes(x))
    machine, io, abi_impl, _ = _run(program, profile, elements, max_cycles, capture_trace, stop_at_limit=False)
    elapsed = time.perf_counter() - machine.started  # the run itself: setup and numba loading excluded

    counts = machine.counts
    report = Report(
        instructions={INSTRUCTIONS[i].mnemonic: int(n) for i, n in enumerate(counts[: len(INSTRUCTIONS)]) if n},
        syscalls=dict(io.syscalls),
        cycle_tracker=dict(io.cycle_tracker),
        cycle_spans=dict(io.cycle_spans),
    )
    trace = None
    if capture_trace:
        columns, events = machine.trace_columns()
        trace = Trace(columns=columns, syscall_events=events)
    fields: dict = {}
    abi_impl.finish(fields)
    return Execution(
        journal=bytes(io.journal),
        exit_code=int(abi_impl.exit_code),
        cycles=machine.cycle,
        stdout=bytes(io.stdout),
        stderr=bytes(io.stderr),
        report=report,
        trace=trace,
        abi=abi_family(profile),
        abi_profile=profile,
        warnings=tuple(io.warnings),
        elapsed_s=elapsed,
        final_registers=tuple(int(r) for r in machine.regs),
        final_pc=machine.pc,
        **fields,
    )
