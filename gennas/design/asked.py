"""What a design loop asked for (:class:`~gennas.design.loop.DesignLoop`'s ledger, a mixin).

An architecture asked for is *seen*: no later ask proposes it, as parallel workers ask again
before their first results are told. Until its result is told it is also *pending*. Pending asks
that nothing will tell (an interrupted ``tell(evaluate(ask(4)))``, an ``ask`` cell run twice in a
notebook) were lost for good, the best picks among them: :meth:`AskLedger.release`
gives them back, so the next ask may offer them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gennas.design.pool import unseen
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph


class AskLedger:
    """Seen, pending and released architectures of a loop; :meth:`start_ledger` sets them up."""

    def start_ledger(self) -> None:
        """An empty ledger (called by the loop's constructor)."""
        self._seen: set[str] = set()  # canonical hashes asked or told: never proposed again
        self._asked = 0  # architectures asked for so far (the local share's running count)
        self._pending: dict[str, ArchGraph] = {}  # asked and not told, in the order asked
        self._released: list[ArchGraph] = []  # given back: candidates of every ask until seen again

    @property
    def pending(self) -> list[ArchGraph]:
        """Architectures asked for and not told yet, in the order asked."""
        return list(self._pending.values())

    def asked_now(self, picks: Sequence[ArchGraph], k: int) -> None:
        """Record an ask of ``k`` that proposed ``picks``."""
        self._asked += k
        for arch in picks:
            h = arch.canonical_hash()
            self._seen.add(h)
            self._pending[h] = arch

    def told_now(self, results: Iterable[Result]) -> None:
        """Record told ``results``: seen, and no longer pending."""
        for r in results:
            h = r.arch.canonical_hash()
            self._seen.add(h)
            self._pending.pop(h, None)

    def released(self) -> list[ArchGraph]:
        """The released architectures not asked or told since (candidates first in the next ask)."""
        self._released = unseen(self._released, self._seen)
        return list(self._released)

    def release(self, archs: Iterable[ArchGraph] | None = None) -> list[ArchGraph]:
        """Give pending ``archs`` (all pending ones by default) back: the next ask may offer them
        again. Returns those released; an architecture told or never asked is left as it is."""
        wanted = None if archs is None else {a.canonical_hash() for a in archs}
        out = [a for h, a in self._pending.items() if wanted is None or h in wanted]
        for arch in out:
            h = arch.canonical_hash()
            del self._pending[h]
            self._seen.discard(h)
        # released first: an untrained loop takes its candidates in order, so it offers them again
        self._released = out + self._released
        self._asked = max(0, self._asked - len(out))  # the local share counts what is verified
        return out
