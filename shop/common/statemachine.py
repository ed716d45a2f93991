"""The state-machine helper shared by orders, take-backs and workshop jobs: which status may
follow which, and why a move is refused. Each machine keeps its own words for the refusal
(the message is for its staff); the rule of what may move where is this one."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Refusal(enum.Enum):
    UNKNOWN = "unknown status"
    SAME = "already there"
    ENDED = "an end status: nothing moves it"
    NOT_ALLOWED = "not a move this machine makes"


@dataclass(frozen=True)
class StateMachine:
    transitions: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, transitions: Mapping[str, Iterable[str]]) -> StateMachine:
        return cls({status: frozenset(to) for status, to in transitions.items()})

    def allowed(self, status: str) -> frozenset[str]:
        return self.transitions.get(status, frozenset())

    def can_move(self, from_status: str, to_status: str) -> bool:
        return to_status in self.allowed(from_status)

    def refusal(self, from_status: str, to_status: str) -> Refusal | None:
        """Why `from_status` → `to_status` is refused, or None when it is allowed."""
        if to_status not in self.transitions:
            return Refusal.UNKNOWN
        if from_status == to_status:
            return Refusal.SAME
        if not self.allowed(from_status):
            return Refusal.ENDED
        if not self.can_move(from_status, to_status):
            return Refusal.NOT_ALLOWED
        return None

    def ends(self) -> tuple[str, ...]:
        """The statuses nothing moves on from."""
        return tuple(status for status, to in self.transitions.items() if not to)
