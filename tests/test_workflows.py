"""Checks of the GitHub workflows in .github/workflows/ that need no GitHub.

Each workflow must parse; every `pyzkvm ...` command it runs must be one the CLI accepts
(after substituting the matrix and env values GitHub would); tests.yml must install and test
exactly as .ci/run and README.md say; crosscheck.yml must pin its tool versions in one place
and cross-check every guest; bench.yml must run `pyzkvm bench` and upload bench/results/.
"""

from __future__ import annotations

import itertools
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from pyzkvm.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
NAMES = ("tests.yml", "crosscheck.yml", "bench.yml")

_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_PYZKVM = re.compile(r"(?:^|(?<=[\s;&|(]))(?:\S*/)?pyzkvm\s+(.*)$")
_OPERATOR = set("();<>|&")


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    return {on: None} if isinstance(on, str) else dict(on)


def steps(workflow: dict):
    """(job, step) for every step of every job."""
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            yield job, step


def subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            return set(action.choices)
    raise AssertionError("the pyzkvm parser has no subcommands")


def expansions(workflow: dict, job: dict, step: dict, script: str) -> list[str]:
    """``script`` with ${{ }} replaced as GitHub would: once per matrix combination."""
    env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
    matrix = job.get("strategy", {}).get("matrix", {})
    axes = {k: v for k, v in matrix.items() if isinstance(v, list)}
    combos = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())] or [{}]
    combos = [{**c, **inc} for c in combos for inc in (matrix.get("include") or [{}])]

    def substitute(combo):
        def one(m):
            expr = m.group(1)
            if expr.startswith("matrix."):
                return str(combo[expr[len("matrix."):]])
            if expr.startswith("env."):
                return str(env[expr[len("env."):]])
            return "X"

        return _EXPR.sub(one, script)

    return [substitute(c) for c in combos]


def pyzkvm_commands(script: str) -> list[list[str]]:
    """The argument lists of every `pyzkvm ...` call in a shell script (up to a shell operator)."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        m = _PYZKVM.search(line.strip())
        if not m:
            continue
        lexer = shlex.shlex(m.group(1), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        args = []
        for token in lexer:
            if set(token) <= _OPERATOR:
                if args and args[-1].isdigit():  # the "2" of "2>&1" is a file descriptor
                    args.pop()
                break
            args.append(re.sub(r"\$\{?\w+\}?", "X", token))  # shell variables: any value
        commands.append(args)
    return commands


def shell_commands(script: str) -> list[str]:
    """Each simple command of a script (split at newlines and &&), whitespace-normalized."""
    out = []
    for line in script.replace("\\\n", " ").splitlines():
        for part in line.split("&&"):
            part = " ".join(part.split())
            if part and not part.startswith("#"):
                # `python3` and `python` are the same interpreter after actions/setup-python.
                out.append(re.sub(r"^python3? ", "python ", part))
    return out


def run_scripts(workflow: dict) -> list[str]:
    return [step["run"] for _, step in steps(workflow) if "run" in step]


# ---- every workflow ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_workflow_parses_and_every_step_does_one_thing(name):
    workflow = load(name)
    assert workflow["name"] and triggers(workflow) and workflow["jobs"]
    for job in workflow["jobs"].values():
        assert str(job["runs-on"]).startswith("ubuntu")
        assert job["steps"]
    for _, step in steps(workflow):
        assert ("uses" in step) != ("run" in step), step
        assert not step.get("continue-on-error"), f"{name}: a failing step must fail the workflow: {step}"


@pytest.mark.parametrize("name", NAMES)
def test_every_pyzkvm_command_is_one_the_cli_accepts(name, capsys):
    workflow = load(name)
    known = subcommands()
    parser = build_parser()
    seen = 0
    for job, step in steps(workflow):
        for script in expansions(workflow, job, step, step.get("run", "")):
            for args in pyzkvm_commands(script):
                seen += 1
                assert args and args[0] in known, f"{name}: `pyzkvm {' '.join(args)}`: no such subcommand"
                try:
                    parser.parse_args(args)
                except SystemExit:
                    pytest.fail(f"{name}: `pyzkvm {' '.join(args)}` is rejected: {capsys.readouterr().err.strip()}")
    assert seen, f"{name} calls no pyzkvm command"


def test_the_command_finder_sees_what_a_shell_would_run():
    # The finder itself, on lines whose pyzkvm calls are known.
    script = (
        ".venv/bin/pyzkvm crosscheck guests/bin/x.elf --input u32:$N 2>&1 | tee out.txt\n"
        "echo /tmp/pyzkvm-ci-fib.receipt && pyzkvm bench --quick --out 'a b'\n"
    )
    assert pyzkvm_commands(script) == [
        ["crosscheck", "guests/bin/x.elf", "--input", "u32:X"],
        ["bench", "--quick", "--out", "a b"],
    ]


# ---- tests.yml --------------------------------------------------------------------------------


def _tests_yml_commands() -> list[str]:
    return [c for script in run_scripts(load("tests.yml")) for c in shell_commands(script)]


def test_tests_workflow_runs_the_commands_of_ci_run():
    ci_run = (REPO / ".ci" / "run").read_text()
    wanted = [
        c for c in shell_commands(ci_run)
        if not c.startswith(("set ", "cd ", "rm ", "trap ", "#!"))
    ]  # fmt: skip
    assert any("pytest" in c for c in wanted), ".ci/run has no test command"
    have = _tests_yml_commands()
    for command in wanted:
        assert command in have, f"tests.yml does not run .ci/run's `{command}`"


def readme_code_lines(text: str) -> list[str]:
    """Lines of README.md's code: fenced blocks and 4-space-indented blocks."""
    fenced = [line for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S) for line in block.splitlines()]
    outside = re.sub(r"```.*?```", "", text, flags=re.S)
    indented = [line[4:] for line in outside.splitlines() if line.startswith("    ") and line.strip()]
    return fenced + indented


def test_tests_workflow_runs_the_install_and_test_commands_of_the_readme():
    readme = REPO / "README.md"
    if not readme.exists():
        pytest.skip("README.md does not exist yet: .ci/run is the reference until it does")
    lines = readme_code_lines(readme.read_text())
    install = [line for line in lines if "-m venv" in line and "pip install" in line]
    test = [line for line in lines if "-m pytest" in line]
    assert install and test, "README.md shows no install (python -m venv ... pip install ...) or test command"
    have = _tests_yml_commands()
    for line in install[:1] + test[:1]:  # the first of each is the one README tells people to run
        for command in shell_commands(line):
            # The same command, or (for the smoke run) the same command with options added,
            # as .ci/run's `-o FILE`.
            same = command in have or any(h.startswith(command + " ") for h in have)
            assert same, f"tests.yml does not run README.md's `{command}`"


def test_tests_workflow_covers_every_supported_python_with_pip_and_numba_caches():
    workflow = load("tests.yml")
    job = workflow["jobs"]["test"]
    versions = [str(v) for v in job["strategy"]["matrix"]["python-version"]]
    assert {"3.11", "3.12"} <= set(versions)
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=" + min(versions, key=lambda v: tuple(map(int, v.split("."))))

    cached = [
        str(step["with"]["path"]) for _, step in steps(workflow)
        if str(step.get("uses", "")).startswith("actions/cache@")
    ]  # fmt: skip
    assert "~/.cache/pip" in cached
    numba_dirs = re.findall(r"NUMBA_CACHE_DIR=(\S+)", "\n".join(run_scripts(workflow)))
    assert numba_dirs, "tests.yml does not set NUMBA_CACHE_DIR"
    assert numba_dirs[0].replace("$HOME", "~").strip("\"'") in cached, "numba's cache folder is not cached"
    # The quick benchmark is what CI runs of `pyzkvm bench`.
    assert any(c[:2] == ["bench", "--quick"] for s in run_scripts(workflow) for c in pyzkvm_commands(s))


# ---- crosscheck.yml ---------------------------------------------------------------------------


def test_crosscheck_workflow_is_manual_and_weekly_with_versions_pinned_once():
    workflow = load("crosscheck.yml")
    on = triggers(workflow)
    assert "workflow_dispatch" in on
    assert on["schedule"] and all(len(entry["cron"].split()) == 5 for entry in on["schedule"])
    env = workflow["env"]
    assert env["RISC0_VERSION"] and str(env["SP1_VERSION"]).startswith("v5.")
    scripts = "\n".join(run_scripts(workflow))
    assert re.search(r'rzup"? install r0vm "?\$RISC0_VERSION', scripts)
    assert re.search(r'sp1up"? --version "?\$SP1_VERSION', scripts)
    # Pinned in one place: no version number written anywhere else in a run script.
    assert not re.findall(r"\b\d+\.\d+\.\d+\b", scripts)


def test_crosscheck_workflow_checks_every_guest_and_uploads_results():
    workflow = load("crosscheck.yml")
    checked = {
        Path(args[1]).stem
        for script in run_scripts(workflow)
        for args in pyzkvm_commands(script)
        if args[0] == "crosscheck"
    }
    guests = {p.stem for p in (REPO / "guests" / "bin").glob("*.elf")}
    guests |= {d.name for d in (REPO / "guests").iterdir() if d.is_dir() and any(d.glob("*.c"))}
    assert guests and guests <= checked, f"guests not cross-checked: {sorted(guests - checked)}"
    _check_risc0_builds(workflow)
    uploads = [s for _, s in steps(workflow) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert uploads and all("crosscheck-results" in s["with"]["path"] for s in uploads)
    assert all(s.get("if") for s in uploads), "results must be uploaded when a crosscheck fails too"


def _check_risc0_builds(workflow: dict) -> None:
    """Both ABI profiles are built, and every guest with a risc0 build is cross-checked with
    it (--risc0-elf guests/bin/risc0/<name>.elf); the ones without are the skipped ones."""
    from pyzkvm.guests.build_all import SKIPPED

    commands = [args for script in run_scripts(workflow) for args in pyzkvm_commands(script)]
    builds = [args for args in commands if args[0] == "build"]
    assert ["build", "--all"] in builds and ["build", "--all", "--abi", "risc0"] in builds
    build_at = {tuple(args): i for i, args in enumerate(commands)}
    first_check = min(i for i, args in enumerate(commands) if args[0] == "crosscheck")
    assert max(build_at[("build", "--all")], build_at[("build", "--all", "--abi", "risc0")]) < first_check
    risc0_guests = {p.stem for p in (REPO / "guests" / "bin" / "risc0").glob("*.elf")}
    assert risc0_guests, "no prebuilt risc0-profile guests in guests/bin/risc0"
    for args in commands:
        if args[0] != "crosscheck":
            continue
        name = Path(args[1]).stem
        if name in SKIPPED["risc0"]:
            assert "--risc0-elf" not in args, f"{name} has no risc0 build ({SKIPPED['risc0'][name]})"
            continue
        assert name in risc0_guests
        assert "--risc0-elf" in args, f"crosscheck {name} runs no risc0 build"
        assert args[args.index("--risc0-elf") + 1] == f"guests/bin/risc0/{name}.elf"


def test_crosscheck_workflow_gives_the_risc0_builds_their_serde_inputs():
    # each --risc0-input is the --input re-encoded as RISC Zero serde words (pyzkvm.inputs)
    from pyzkvm import inputs as enc
    from pyzkvm.cli.common import parse_inputs

    workflow = load("crosscheck.yml")
    for script in run_scripts(workflow):
        for args in pyzkvm_commands(script):
            if args[0] != "crosscheck" or "--risc0-elf" not in args:
                continue
            sp1 = parse_inputs([args[i + 1] for i, a in enumerate(args) if a == "--input"])
            given = [args[i + 1] for i, a in enumerate(args) if a == "--risc0-input"]
            risc0 = parse_inputs(given) if given else sp1
            name = Path(args[1]).stem
            if name in ("sha256", "sort"):  # one byte-string element each
                assert b"".join(risc0) == enc.risc0_bytes(sp1[0]), name
            else:  # u32 elements or none: the same bytes under both profiles
                assert all(len(x) == 4 for x in sp1) and risc0 == sp1, name


# ---- bench.yml --------------------------------------------------------------------------------


def test_bench_workflow_runs_the_benchmark_and_uploads_its_results():
    workflow = load("bench.yml")
    assert "workflow_dispatch" in triggers(workflow)
    calls = [args for script in run_scripts(workflow) for args in pyzkvm_commands(script)]
    assert ["bench", "--out", "bench/results"] in calls  # the full comparison, recorded where it is uploaded from
    uploads = [s for _, s in steps(workflow) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert any(s["with"]["path"].rstrip("/") == "bench/results" for s in uploads)
