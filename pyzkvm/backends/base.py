"""The Backend interface every prover implements, and the registry that finds them.

A backend turns a run of a program into a Receipt and checks Receipts against an image ID::

    backend = get_backend("stark")
    receipt = backend.prove(program, inputs, progress=callback)
    backend.verify(receipt, program.image_id)     # raises VerificationError when it fails

Built-in backends are listed in ``BUILTIN_BACKENDS``; third-party packages add theirs through
the ``pyzkvm.backends`` entry-point group (``name = "package.module:BackendClass"``), so a new
prover is one class and one line in its own pyproject.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Callable, ClassVar, Sequence

from ..errors import BackendError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..program import Program
    from ..receipt import Receipt

#: progress(step, fraction): ``step`` names the protocol step ("execute", "commit to trace
#: data", ...), ``fraction`` is the overall progress in [0, 1].
ProgressCallback = Callable[[str, float], None]

ENTRY_POINT_GROUP = "pyzkvm.backends"

BUILTIN_BACKENDS: dict[str, str] = {
    "trace": "pyzkvm.backends.trace:TraceBackend",
    "stark": "pyzkvm.backends.stark:StarkBackend",
    "risc0": "pyzkvm.backends.risc0:Risc0Backend",
    "sp1": "pyzkvm.backends.sp1:Sp1Backend",
}


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here; when not, ``reason`` says why and how to fix it."""

    available: bool
    reason: str = ""
    version: str = ""

    def __bool__(self) -> bool:
        return self.available


class Backend(ABC):
    """One prover. Subclasses set ``name`` and implement ``prove`` and ``verify``."""

    name: ClassVar[str] = ""
    #: False for dev-mode backends whose receipts are not proofs.
    produces_proofs: ClassVar[bool] = True

    def availability(self) -> Availability:
        """Available or not here, with the reason and how to fix it."""
        return Availability(True)

    @abstractmethod
    def prove(
        self,
        program: "Program",
        inputs: Sequence[bytes] = (),
        *,
        progress: ProgressCallback | None = None,
        **options,
    ) -> "Receipt":
        """Run ``program`` on ``inputs`` and return a receipt for the claim it makes."""

    @abstractmethod
    def verify(self, receipt: "Receipt", image_id: bytes, **options) -> None:
        """Check ``receipt`` against ``image_id``; raise VerificationError saying what failed."""


def _builtin_and_plugins() -> dict[str, str]:
    found = dict(BUILTIN_BACKENDS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def list_backends() -> list[str]:
    """Names of every known backend: built-ins first, then plug-ins."""
    return list(_builtin_and_plugins())


def get_backend(name: str) -> Backend:
    """Instantiate the backend called ``name`` (built-in or registered by entry point)."""
    targets = _builtin_and_plugins()
    if name not in targets:
        raise UsageError(f"unknown backend {name!r}: choose one of {', '.join(targets)}")
    module_name, _, attr = targets[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise BackendError(f"backend {name!r} could not be loaded from {targets[name]}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendError(f"backend {name!r} ({targets[name]}) is not a pyzkvm Backend subclass")
    return cls()
