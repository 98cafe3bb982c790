"""``pyzkvm backends``: every prover backend, and whether it can run here (and why not)."""

from __future__ import annotations

import json

ORDER = 60


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "backends",
        help="list prover backends and whether each is available here",
        description="List built-in and plug-in (entry point 'pyzkvm.backends') backends, with availability.",
    )
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=run_backends)


def run_backends(args) -> int:
    from ..backends import backend_statuses, default_backend_name

    statuses = backend_statuses()
    default = default_backend_name()
    if args.json:
        print(json.dumps({"default": default, "backends": [s.to_json() for s in statuses]}, indent=2))
        return 0
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        a = s.availability
        if a.available:
            state = "available" + (f" ({a.version})" if a.version else "")
        else:
            state = f"not available: {a.reason}"
        notes = []
        if s.produces_proofs is False:
            notes.append("dev mode: receipts are not proofs")
        if s.name == default:
            notes.append("default")
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        print(f"{s.name:<{width}}  {state}{suffix}")
    return 0
