"""How pyzkvm runs an external tool (backends/_subprocess.py), against small Python scripts
standing in for a hostile or broken tool: bounded memory for any output, nothing of a tool's
text printed raw, a typed error for every way it can go wrong (a review, session 27)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from pyzkvm.backends import _subprocess as sp
from pyzkvm.cli.crosscheck import refused_exit_code
from pyzkvm.errors import ToolchainError, UsageError


def tool(tmp_path, body: str) -> list[str]:
    script = tmp_path / "tool.py"
    script.write_text(body)
    return [sys.executable, str(script)]


def test_a_huge_output_keeps_only_its_tail(tmp_path, monkeypatch):
    # 12 MiB of log lines, then the result: only the last MAX_KEPT_OUTPUT_BYTES are kept, and the result is in them
    monkeypatch.setattr(sp, "MAX_KEPT_OUTPUT_BYTES", 1 << 20)
    argv = tool(tmp_path, "import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(12 * 1024): sys.stdout.write(line)\n"
                          "sys.stderr.write('e' * (3 << 20))\nprint('{\"ok\": 1}')\n")
    run = sp.run_tool(argv, tool="t", timeout=60)
    assert len(run.stdout) <= 1 << 20 and len(run.stderr) <= 1 << 20
    assert run.stdout.splitlines()[0] == "x" * 1023  # (from a line's start)
    assert sp.parse_json_line(run.stdout, "t", ("ok",)) == {"ok": 1}


def test_a_tool_whose_child_holds_its_pipes_is_not_hung(tmp_path, monkeypatch):
    # the tool prints its result and exits 0; a child it left behind keeps stdout open for 60 s
    monkeypatch.setattr(sp, "PIPE_GRACE_S", 0.5)
    argv = tool(tmp_path, "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                          "print('{\"ok\": 1}', flush=True)\n")
    started = time.monotonic()
    run = sp.run_tool(argv, tool="t", timeout=30)
    assert time.monotonic() - started < 10
    assert sp.parse_json_line(run.stdout, "t", ("ok",)) == {"ok": 1}



def _running(pid: int) -> bool:
    # alive and not a zombie (a killed orphan waits for init to reap it)
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the run marker is found in /proc")
def test_a_hung_tools_worker_that_left_its_process_group_is_ended_too(tmp_path):
    # the tool starts a worker in a session of its own (setsid: out of the process group that a
    # timeout kills), then hangs; the worker carries the run's marker in its environment
    pid_file = tmp_path / "worker.pid"
    argv = tool(tmp_path, "import subprocess, sys, time\n"
                          "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True,\n"
                          "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                          f"open({str(pid_file)!r}, 'w').write(str(w.pid))\n"
                          "time.sleep(120)\n")
    try:
        with pytest.raises(ToolchainError, match=r"t hung: no result after 3 s \(killed\)"):
            sp.run_tool(argv, tool="t", timeout=3)
        worker = int(pid_file.read_text())
        deadline = time.monotonic() + 5
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(worker)
    finally:
        if pid_file.exists() and _running(int(pid_file.read_text())):  # (not left behind if the test fails)
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_the_scan_looks_only_at_processes_started_with_the_tool_or_after(monkeypatch):
    # a process that started before the tool is no descendant of it: not looked at (its
    # environment is not read), whatever it holds; one started at the tool's tick or later is
    import subprocess as subp

    marker = "0123456789abcdef"
    env = dict(os.environ, **{sp.RUN_MARKER_ENV: marker})
    older = subp.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    try:
        time.sleep(0.05)
        born = sp._start_ticks(older.pid) + 1  # (a tick after it: "the tool" started later)
        assert older.pid in sp.marked_processes(marker)
        assert older.pid not in sp.marked_processes(marker, born)
        assert older.pid in sp.marked_processes(marker, born - 1)
    finally:
        older.kill()
        older.wait()

def test_a_tools_words_are_printed_without_terminal_controls():
    # (a carriage return ends a line: what follows it cannot overwrite pyzkvm's own words)
    assert sp.last_line("ok\nx\x1b]0;owned\x07\x1b[2Ky\rverified: yes\n") == "verified: yes"
    assert sp.last_line("ok\nx\x1b]0;owned\x07\x1b[2Ky\n") == "xy"
    assert sp.last_line("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b") == "alinkb"  # (a link: OSC 8 … ESC \\)
    assert sp.last_line("bell\x07 and \x00") == "bell\\x07 and \\x00"


def test_a_deeply_nested_result_line_is_garbage_not_a_crash():
    # (never handed to json.loads: under a raised recursion limit its C scanner overflowed the stack)
    with pytest.raises(ToolchainError, match="printed no JSON result line"):
        sp.parse_json_line('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "t")
    with pytest.raises(ToolchainError, match="printed no JSON result line"):
        sp.parse_json_line('{"a": "' + "x" * (sp.MAX_RESULT_LINE_BYTES + 1) + '"}\n', "t")


def test_an_endless_timeout_is_a_usage_error(monkeypatch):
    for value in ("inf", "nan", "-1", "0"):
        monkeypatch.setenv(sp.TIMEOUT_ENV, value)
        with pytest.raises(UsageError, match="positive number of seconds"):
            sp.tool_timeout()
    with pytest.raises(UsageError, match="positive number of seconds"):
        sp.tool_timeout(float("inf"))


def test_only_a_crash_naming_the_guests_exit_code_is_a_refusal():
    assert refused_exit_code("sp1-runner crashed (exit code 1): error: execution failed: HaltWithNonZeroExitCode(3)") == 3
    assert refused_exit_code("r0vm crashed (exit code 1): Error: guest halted with exit code 7; not proving it") == 7
    for message in ("risc0-helper crashed (exit code 1): cannot write guest.bin: No space left on device",
                    "r0vm --id crashed (exit code 1): exit code 3",
                    "sp1-runner crashed (signal 9): exit code 3",
                    "r0vm hung: no result after 2 s (killed); exit code 3",
                    "sp1-runner crashed (exit code 1): cannot read /nonexistent"):
        assert refused_exit_code(message) is None, message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the run marker is found in /proc")
def test_a_pid_reused_since_the_scan_is_not_killed(monkeypatch):
    # the scan found a marked PID; before the kill that process ended and an unrelated one (no
    # marker) got its PID: it must live (the kill goes through a pidfd and reads the marker again)
    import subprocess as subp

    bystander = subp.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        monkeypatch.setattr(sp, "marked_processes", lambda marker, born=None: [bystander.pid])

        class Done:
            pid = 2**22 + 12345  # (no such group)

            def wait(self, timeout=None):
                return 0

        sp._kill_group(Done(), "feedface")  # type: ignore[arg-type]
        time.sleep(0.2)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
