"""A toy third-party backend for pyzkvm's plug-in tests. It proves nothing.

``testplugin-echo`` claims the journal is the concatenation of the inputs and seals the claim
with a keyed hash; ``testplugin-lazydev`` is a dev-mode backend that forgets to gate itself
(so the tests can show pyzkvm.verify gates it anyway). Found through the ``pyzkvm.backends``
entry-point group declared in the sibling dist-info directory.
"""

import hashlib

from pyzkvm.backends import Availability, Backend
from pyzkvm.errors import VerificationError
from pyzkvm.receipt import Claim, Receipt

_KEY = b"pyzkvm-testplugin"


def _seal(claim: Claim) -> bytes:
    return hashlib.sha256(_KEY + claim.to_bytes()).digest()


class EchoBackend(Backend):
    name = "testplugin-echo"
    calls = []  # (method, kwargs) log, so tests see the plug-in itself was used

    def availability(self):
        return Availability(True, version="0.0")

    def prove(self, program, inputs=(), *, progress=None, **options):
        EchoBackend.calls.append(("prove", dict(options)))
        if progress:
            progress("echo", 1.0)
        journal = b"".join(inputs)
        claim = Claim.for_execution(program.image_id, journal, 0, 0)
        return Receipt(claim, journal, self.name, "0.0", {"security_bits": 0}, _seal(claim))

    def verify(self, receipt, image_id, **options):
        EchoBackend.calls.append(("verify", dict(options)))
        if receipt.seal != _seal(receipt.claim):
            raise VerificationError("testplugin-echo: seal does not match the claim")


class LazyDevBackend(EchoBackend):
    name = "testplugin-lazydev"
    produces_proofs = False

    def prove(self, program, inputs=(), *, progress=None, **options):
        r = super().prove(program, inputs, progress=progress, **options)
        return Receipt(r.claim, r.journal, self.name, "0.0", {"dev_mode": True}, r.seal)
