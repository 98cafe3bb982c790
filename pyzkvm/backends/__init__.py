"""Prover backends behind one interface (see base.py), and how to pick one.

Built-ins: ``trace`` (dev mode, not a proof), ``stark``, ``risc0``, ``sp1``; plug-ins come
from the ``pyzkvm.backends`` entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BackendError, BackendUnavailable
from .base import (
    DEV_MODE_ENV,
    Availability,
    Backend,
    ProgressCallback,
    dev_mode_enabled,
    get_backend,
    list_backends,
    refuse_unless_dev_mode,
    require_dev_mode,
    warn_dev_mode_accepted,
)

__all__ = [
    "DEV_MODE_ENV",
    "Availability",
    "Backend",
    "BackendStatus",
    "ProgressCallback",
    "backend_statuses",
    "default_backend_name",
    "dev_mode_enabled",
    "get_backend",
    "list_backends",
    "refuse_unless_dev_mode",
    "require_dev_mode",
    "warn_dev_mode_accepted",
]


@dataclass(frozen=True)
class BackendStatus:
    """One row of ``pyzkvm backends``: a backend's name, availability, and whether it proves."""

    name: str
    availability: Availability
    produces_proofs: bool | None  # None when the backend could not be loaded

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "available": self.availability.available,
            "reason": self.availability.reason,
            "version": self.availability.version,
            "produces_proofs": self.produces_proofs,
        }


def backend_status(name: str) -> BackendStatus:
    """Load backend ``name`` and ask whether it can run here; never raises for a broken backend."""
    try:
        backend = get_backend(name)
    except BackendUnavailable as exc:
        reason = "not built yet" if "not built yet" in str(exc) else str(exc)
        return BackendStatus(name, Availability(False, reason), None)
    except BackendError as exc:
        return BackendStatus(name, Availability(False, str(exc)), None)
    try:
        availability = backend.availability()
    except Exception as exc:  # a plug-in's availability check must not take the listing down
        availability = Availability(False, f"availability check failed: {type(exc).__name__}: {exc}")
    return BackendStatus(name, availability, backend.produces_proofs)


def backend_statuses() -> list[BackendStatus]:
    """The status of every known backend, built-ins first, then plug-ins."""
    return [backend_status(name) for name in list_backends()]


def default_backend_name() -> str:
    """``stark`` once its module exists and is available here, else ``trace`` (dev mode)."""
    import importlib.util

    if importlib.util.find_spec("pyzkvm.backends.stark") is not None and backend_status("stark").availability:
        return "stark"
    return "trace"
