"""The life cycle of each record kind: its statuses and the moves between them, as one typed definition.

This is the public status table (docs/INTERFACE.md, "Statuses") with, for every verb, the statuses it
may be applied from. Everything that moves, offers or counts a status reads it here: the store
(``Record.status`` only takes these words), the domain (:func:`bot.domain.lifecycle.move` applies a move
and refuses one from any other status), the buttons of cards, App Home, nudges and service-level
warnings (they offer exactly :meth:`Lifecycle.moves_from`), and the reports (what is open or terminal).

A verb applied to a record already in its target status is no move: nothing changes, nothing is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import String, TypeDecorator
from sqlalchemy.engine import Dialect

from storage.enums import Kind


class RequirementStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    REJECTED = "rejected"


class IssueStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class RiskStatus(StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    CLOSED = "closed"


# A record's status is one of its kind's; members compare equal to the stored word.
RecordStatus = RequirementStatus | IssueStatus | TaskStatus | RiskStatus


class Verb(StrEnum):
    """The words that move a record (``/issue resolve ACME-3``, the card's Resolve button)."""

    ACCEPT = "accept"
    START = "start"
    DELIVER = "deliver"
    REJECT = "reject"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    DONE = "done"
    MITIGATE = "mitigate"
    CLOSE = "close"


@dataclass(frozen=True)
class Move:
    """Where a verb takes a record, and the statuses it may be applied from."""

    to: RecordStatus
    start: frozenset[RecordStatus]


@dataclass(frozen=True)
class Lifecycle:
    statuses: tuple[RecordStatus, ...]
    initial: RecordStatus
    open: tuple[RecordStatus, ...]
    terminal: tuple[RecordStatus, ...]
    # The kind's own verbs, in the order they are offered (``close`` is :attr:`close`).
    moves: dict[Verb, Move]
    close: Move

    @property
    def close_to(self) -> RecordStatus:
        return self.close.to

    def move(self, verb: str) -> Move | None:
        """The move ``verb`` names for this kind (``close`` included), or ``None``."""
        if verb not in _VERBS:
            return None
        return self.close if verb == Verb.CLOSE else self.moves.get(Verb(verb))

    def moves_from(self, status: str) -> tuple[Verb, ...]:
        """The verbs that change a record in ``status``: its kind's moves in order, then ``close``."""
        verbs = [verb for verb, move in self.moves.items() if status in move.start]
        return (*verbs, Verb.CLOSE) if status in self.close.start else tuple(verbs)

    def status(self, word: str) -> RecordStatus:
        """The kind's status named ``word`` (a ``ValueError`` for a word that is not one)."""
        for status in self.statuses:
            if status == word:
                return status
        raise ValueError(f"{word!r} is not a status of this kind ({', '.join(self.statuses)})")


_VERBS = frozenset(Verb)


def _lifecycle(
    statuses: tuple[RecordStatus, ...], *, terminal: tuple[RecordStatus, ...], close_to: RecordStatus,
    moves: dict[Verb, tuple[RecordStatus, tuple[RecordStatus, ...]]],
) -> Lifecycle:  # fmt: skip
    open_ = tuple(s for s in statuses if s not in terminal)
    return Lifecycle(
        statuses=statuses,
        initial=statuses[0],
        open=open_,
        terminal=terminal,
        moves={verb: Move(to, frozenset(start)) for verb, (to, start) in moves.items()},
        close=Move(close_to, frozenset(open_)),
    )


_R, _I, _T, _K = RequirementStatus, IssueStatus, TaskStatus, RiskStatus

LIFECYCLES: dict[Kind, Lifecycle] = {
    Kind.REQUIREMENT: _lifecycle(
        tuple(_R),
        terminal=(_R.DELIVERED, _R.REJECTED),
        close_to=_R.DELIVERED,
        moves={
            Verb.ACCEPT: (_R.ACCEPTED, (_R.PROPOSED,)),
            Verb.START: (_R.IN_PROGRESS, (_R.PROPOSED, _R.ACCEPTED)),
            Verb.DELIVER: (_R.DELIVERED, (_R.PROPOSED, _R.ACCEPTED, _R.IN_PROGRESS)),
            Verb.REJECT: (_R.REJECTED, (_R.PROPOSED, _R.ACCEPTED, _R.IN_PROGRESS)),
        },
    ),
    Kind.ISSUE: _lifecycle(
        tuple(_I),
        terminal=(_I.CLOSED,),
        close_to=_I.CLOSED,
        moves={
            Verb.START: (_I.IN_PROGRESS, (_I.OPEN,)),
            Verb.RESOLVE: (_I.RESOLVED, (_I.OPEN, _I.IN_PROGRESS)),
            Verb.REOPEN: (_I.OPEN, (_I.RESOLVED, _I.CLOSED)),
        },
    ),
    Kind.TASK: _lifecycle(
        tuple(_T),
        terminal=(_T.DONE,),
        close_to=_T.DONE,
        moves={
            Verb.START: (_T.IN_PROGRESS, (_T.OPEN,)),
            Verb.DONE: (_T.DONE, (_T.OPEN, _T.IN_PROGRESS)),
        },
    ),
    Kind.RISK: _lifecycle(
        tuple(_K),
        terminal=(_K.CLOSED,),
        close_to=_K.CLOSED,
        moves={Verb.MITIGATE: (_K.MITIGATING, (_K.OPEN,))},
    ),
}
# Every status word of any kind: what ``Record.status`` may hold.
STATUS_WORDS: frozenset[str] = frozenset(str(s) for lc in LIFECYCLES.values() for s in lc.statuses)
# The longest word fits the column as it has always been (``String(16)``).
STATUS_LENGTH = 16


def is_open(kind: Kind, status: str) -> bool:
    return status in LIFECYCLES[kind].open


class StatusType(TypeDecorator[str]):
    """``Record.status``: the same strings as ever (no data change), refusing a word no kind has.

    A status of the wrong kind is refused by ``Record``'s validator, which knows the kind.
    """

    impl = String(STATUS_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value not in STATUS_WORDS:
            raise ValueError(f"{value!r} is not a record status ({', '.join(sorted(STATUS_WORDS))})")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return value
