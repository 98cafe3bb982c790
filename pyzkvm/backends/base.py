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
import os
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Sequence

from ..errors import BackendError, BackendUnavailable, DevModeReceiptError, UsageError, VerificationError

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
    #: True when ``verify`` needs the guest program itself (``program=``), not only the image
    #: ID: the external toolchains derive their own keys from the ELF.
    verify_needs_program: ClassVar[bool] = False
    #: False when the backend's proof does not bind the claim's cycle count (an external
    #: toolchain's proof commits to the journal and exit, not to how many cycles ran): the
    #: count is then the prover's report, and verification shows it as such (api.Verified)
    proves_cycles: ClassVar[bool] = True

    @property
    def version(self) -> str:
        """The prover's version, recorded in its receipts (pyzkvm's own for built-in provers)."""
        from .. import __version__

        return __version__

    def availability(self) -> Availability:
        """Available or not here, with the reason and how to fix it."""
        return Availability(True, version=self.version)

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
    def verify(self, receipt: "Receipt", image_id: bytes, **options) -> object:
        """Check ``receipt`` against ``image_id``; raise VerificationError saying what failed.
        May return what was verified (the stark backend's StarkVerification), else None."""

    def check_claim(self, receipt: "Receipt", image_id: bytes) -> None:
        """The checks every backend makes before it looks at the seal: the receipt is this
        backend's, its claim names ``image_id``, and its journal matches the claim's digest."""
        if receipt.backend != self.name:
            raise VerificationError(f"receipt was made by backend {receipt.backend!r}, not {self.name!r}")
        check_image_and_journal(receipt, image_id)

    def reject_options(self, options: dict, step: str = "prove") -> None:
        """Raise UsageError naming any keyword option this backend's ``step`` does not take."""
        if options:
            raise UsageError(f"the {self.name} backend's {step} takes no option(s) {', '.join(sorted(options))}")


def check_image_and_journal(receipt: "Receipt", image_id: bytes) -> None:
    """The claim names ``image_id`` and SHA-256(journal) equals the claim's journal digest."""
    if receipt.claim.image_id != bytes(image_id):
        raise VerificationError(
            f"image ID mismatch: receipt is for {receipt.claim.image_id.hex()}, expected {bytes(image_id).hex()}"
        )
    receipt.check_journal()


def _builtin_and_plugins() -> dict[str, str]:
    from importlib.metadata import entry_points  # ~0.1 s to import: only when plug-ins are asked for

    found = dict(BUILTIN_BACKENDS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def list_backends() -> list[str]:
    """Names of every known backend: built-ins first, then plug-ins."""
    return list(_builtin_and_plugins())


def get_backend(name: str) -> Backend:
    """Instantiate the backend called ``name`` (built-in or registered by entry point)."""
    # Built-ins win over plug-ins of the same name, so only scan entry points (slow) for others.
    targets = BUILTIN_BACKENDS if name in BUILTIN_BACKENDS else _builtin_and_plugins()
    if name not in targets:
        raise UsageError(f"unknown backend {name!r}: choose one of {', '.join(targets)}")
    module_name, _, attr = targets[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except ModuleNotFoundError as exc:
        if name in BUILTIN_BACKENDS and exc.name == module_name:
            # A built-in whose module is not in this checkout yet (stark, risc0, sp1 land later).
            raise BackendUnavailable(f"backend {name!r} is not built yet ({module_name} does not exist)") from None
        raise BackendError(f"backend {name!r} could not be loaded from {targets[name]}: {exc}") from None
    except (ImportError, AttributeError) as exc:
        raise BackendError(f"backend {name!r} could not be loaded from {targets[name]}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendError(f"backend {name!r} ({targets[name]}) is not a pyzkvm Backend subclass")
    return cls()


# ---- dev mode ------------------------------------------------------------------------------

#: Environment variable that lets dev-mode (non-proof) receipts pass verification.
DEV_MODE_ENV = "PYZKVM_DEV_MODE"

DEV_MODE_REFUSAL = ("this is a dev-mode receipt, not a proof: set PYZKVM_DEV_MODE=1 (CLI: --dev-mode; library: "
                    "dev_mode=True) to accept it")
DEV_MODE_WARNING = "WARNING: accepting a dev-mode receipt: it proves nothing"


def dev_mode_enabled(dev_mode: bool | None = None) -> bool:
    """Whether dev-mode receipts may be accepted: ``dev_mode`` when given, else $PYZKVM_DEV_MODE == "1".
    Only True, False or None: a string such as "false" would read as True and turn dev mode on."""
    if dev_mode is not None:
        if not isinstance(dev_mode, bool):
            raise UsageError(f"dev_mode must be True, False or None, not {dev_mode!r}")
        return dev_mode
    return os.environ.get(DEV_MODE_ENV, "") == "1"


def require_dev_mode(dev_mode: bool | None = None) -> None:
    """Gate for dev-mode receipts: raise DevModeReceiptError unless dev mode is on, else warn on stderr.

    Every backend whose receipts are not proofs (``produces_proofs = False``) calls this first
    in ``verify``; ``pyzkvm.verify`` also refuses such receipts itself when dev mode is off.
    """
    refuse_unless_dev_mode(dev_mode)
    warn_dev_mode_accepted()


def refuse_unless_dev_mode(dev_mode: bool | None = None) -> None:
    """Raise DevModeReceiptError unless dev mode is on (the first half of require_dev_mode)."""
    if not dev_mode_enabled(dev_mode):
        raise DevModeReceiptError(DEV_MODE_REFUSAL)


def warn_dev_mode_accepted() -> None:
    """Say on stderr that a dev-mode receipt was accepted (the second half of require_dev_mode)."""
    print(DEV_MODE_WARNING, file=sys.stderr)
