"""What the host collects while a guest runs: input stream, journal, stdout/stderr, commits,
syscall counts and SP1-style cycle-tracker spans. Shared by both ABI profiles."""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field

# SP1 cycle tracker lines on stdout (sp1-core-executor syscalls/write.rs): both kinds are
# consumed (not echoed to stdout). SP1 keeps one open start per name (a HashMap: a second
# start of the same name overwrites the first, an end removes it), for both kinds alike;
# a span closed by cycle-tracker-report-end adds to the execution report's cycle_tracker,
# one closed by cycle-tracker-end is only logged by SP1 (pyzkvm sums it into cycle_spans).
_TRACKER = re.compile(rb"^cycle-tracker-(report-)?(start|end):\s*(.+?)\s*$")


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
