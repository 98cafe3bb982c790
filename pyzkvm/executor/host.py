"""What the host collects while a guest runs: input stream, journal, stdout/stderr, commits,
syscall counts and SP1-style cycle-tracker spans. Shared by both ABI profiles."""

from __future__ import annotations

import contextlib
import re
from collections import Counter, deque
from dataclasses import dataclass, field, replace

from ..limits import DEFAULT_MAX_HINT_BYTES, DEFAULT_MAX_JOURNAL_BYTES, DEFAULT_MAX_OUTPUT_BYTES

# SP1 cycle tracker lines on stdout (sp1-core-executor syscalls/write.rs): both kinds are
# consumed (not echoed to stdout). SP1 keeps one open start per name (a HashMap: a second
# start of the same name overwrites the first, an end removes it), for both kinds alike;
# a span closed by cycle-tracker-report-end adds to the execution report's cycle_tracker,
# one closed by cycle-tracker-end is only logged by SP1 (pyzkvm sums it into cycle_spans).
_TRACKER = re.compile(rb"^cycle-tracker-(report-)?(start|end):\s*(.+?)\s*$")


@dataclass(frozen=True)
class OutputCaps:
    """How many bytes one run may write to each channel (docs/limits.md). A guest's WRITE is
    copied into host memory, so without a cap one instruction could make the host hold
    gigabytes; past a cap the guest stops with a fault that names the cap."""

    output: int = DEFAULT_MAX_OUTPUT_BYTES  # stdout + stderr
    journal: int = DEFAULT_MAX_JOURNAL_BYTES  # public values
    hint: int = DEFAULT_MAX_HINT_BYTES  # bytes appended to the guest's own input stream

    #: the command-line option that raises each cap
    OPTIONS = {"output": "--max-output", "journal": "--max-journal", "hint": "--max-hint"}


_default_caps = [OutputCaps()]


def set_default_caps(**caps: int) -> None:
    """Raise or lower the caps every later run in this process starts with (the CLI's
    --max-output/--max-journal/--max-hint; proving backends run the executor themselves)."""
    _default_caps[0] = replace(_default_caps[0], **caps)


@contextlib.contextmanager
def default_caps(**caps: int):
    """set_default_caps for the runs inside the block only (a batch worker's task: the caps its
    client was given, not kept for the next client's task on the same worker)."""
    before = _default_caps[0]
    set_default_caps(**caps)
    try:
        yield
    finally:
        _default_caps[0] = before


#: warnings kept per run (host.HostIO.warn)
MAX_WARNINGS = 100


@dataclass
class HostIO:
    inputs: deque  # remaining input elements (byte strings)
    journal: bytearray = field(default_factory=bytearray)
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    syscalls: Counter = field(default_factory=Counter)
    cycle_tracker: dict = field(default_factory=dict)
    cycle_spans: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    _open_spans: dict = field(default_factory=dict)
    _line: bytearray = field(default_factory=bytearray)
    caps: OutputCaps = field(default_factory=lambda: _default_caps[0])
    hint_bytes: int = 0  # bytes the guest has appended to its input stream so far

    def warn(self, message: str) -> None:
        """Record what the host ignored; past MAX_WARNINGS only count them (a guest warning in a
        loop must not grow the host's memory without bound)."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        elif len(self.warnings) == MAX_WARNINGS:
            self.warnings.append("... more warnings not recorded")

    def over_cap(self, channel: str, length: int) -> str | None:
        """Why writing ``length`` more bytes to ``channel`` ("output", "journal" or "hint") would
        pass its cap, or None. Checked before the guest's buffer is copied."""
        held = {"output": len(self.stdout) + len(self._line) + len(self.stderr),
                "journal": len(self.journal), "hint": self.hint_bytes}[channel]  # fmt: skip
        cap = getattr(self.caps, channel)
        if held + length <= cap:
            return None
        return (f"the guest's {channel} would reach {held + length:,} bytes, over the cap of {cap:,}; "
                f"raise it with {OutputCaps.OPTIONS[channel]} BYTES")

    def write_stdout(self, data: bytes, cycle: int) -> None:
        """Guest stdout, line-buffered so cycle-tracker commands can be picked out."""
        self._line += data
        while True:
            nl = self._line.find(b"\n")
            if nl < 0:
                break
            line = bytes(self._line[: nl + 1])
            del self._line[: nl + 1]
            if not self._track(line, cycle):
                self.stdout += line

    def _track(self, line: bytes, cycle: int) -> bool:
        m = _TRACKER.match(line.rstrip(b"\r\n"))
        if not m:
            return False
        name = m.group(3).decode("utf-8", "replace")
        if m.group(2) == b"start":
            self._open_spans[name] = cycle  # overwrites an open start of the same name
        else:
            start = self._open_spans.pop(name, None)
            if start is not None:  # an end without an open start is ignored, as SP1 does
                totals = self.cycle_tracker if m.group(1) else self.cycle_spans
                totals[name] = totals.get(name, 0) + cycle - start
        return True

    def flush(self, cycle: int) -> None:
        """At halt: an unterminated last stdout line is kept as output."""
        if self._line:
            if not self._track(bytes(self._line), cycle):
                self.stdout += self._line
            self._line.clear()
