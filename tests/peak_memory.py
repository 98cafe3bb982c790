"""A child process's own peak memory, for the tests that put a ceiling on it.

os.wait4's ru_maxrss is not it when the parent is large (a pytest-xdist worker that has
already run proofs): Linux keeps a process's high-water mark across execve, so a child
forked from a 650 MB parent reports ≥ 650 MB whatever it does. VmHWM in /proc/self/status
belongs to the address space the child builds after exec, so the child reports that itself,
at exit, through ``LAUNCHER``:

    python -c LAUNCHER -m pyzkvm ARGS...     # like python -m pyzkvm ARGS...
    python -c LAUNCHER -c CODE               # like python -c CODE
"""

from __future__ import annotations

from pathlib import Path

ENV = "PYZKVM_TEST_PEAK_FILE"

LAUNCHER = """
import atexit, os, runpy, sys

def _report_peak():
    with open('/proc/self/status') as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))
    with open(os.environ['PYZKVM_TEST_PEAK_FILE'], 'w') as out:
        out.write(str(kb))

atexit.register(_report_peak)
mode, payload = sys.argv[1], sys.argv[2]
if mode == '-m':
    sys.argv = [payload, *sys.argv[3:]]
    runpy.run_module(payload, run_name='__main__', alter_sys=True)
else:
    sys.argv = ['-c']
    exec(compile(payload, '<string>', 'exec'), {'__name__': '__main__'})
"""


def peak_mib(peak_file: Path, usage) -> float:
    """The child's peak RSS in MiB: what it reported, else (killed before exit) ru_maxrss."""
    try:
        return int(Path(peak_file).read_text()) / 1024
    except (OSError, ValueError):
        return usage.ru_maxrss / 1024


def with_peak_file(env: dict, peak_file: Path) -> dict:
    return {**env, ENV: str(peak_file)}



