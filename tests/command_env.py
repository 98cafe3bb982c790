"""The environment of the pyzkvm commands the tests start as subprocesses.

In the test processes the memo is off (tests/conftest.py): every test computes what it checks.
A command a test starts is another matter: most of them test the CLI's plumbing (arguments,
files, exit codes, messages), and with the memo off each fresh command rebuilds the program's
image ID and the machine's keys (~5 s of CPU per ``verify --elf``, more per stark ``prove``).
So they run with the memo on, in a folder private to this test run (made by tests/conftest.py,
removed at its end): a command reads only values that this run's code stored, as a user's
second command does, and nothing is written to the user's own memo."""

from __future__ import annotations

import os

from pyzkvm.memo import MEMO_DIR_ENV, NO_MEMO_ENV

#: the variable that names this test run's memo folder (set by tests/conftest.py)
RUN_MEMO_ENV = "PYZKVM_TEST_RUN_MEMO"


def with_run_memo(env: dict) -> dict:
    """``env`` (a copy of os.environ, say) with the memo on, in this test run's folder."""
    env = {k: v for k, v in env.items() if k != NO_MEMO_ENV}
    env[MEMO_DIR_ENV] = os.environ[RUN_MEMO_ENV]
    return env
