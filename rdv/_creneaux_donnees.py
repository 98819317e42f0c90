"""The plain data the slot engine reads and returns, built by the caller from a few queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlageOuverture:
    """A recurring window in which an agent receives for some motifs at a site.

    `heure_debut` and `heure_fin` are local wall-clock times of the
    territoire's zone, on the same day (a plage that would end at or before
    it starts gives nothing). `rrule` is an RFC 5545 RRULE value without the
    "RRULE:" prefix ("FREQ=WEEKLY;BYDAY=MO,TU,TH"), expanded by dateutil
    from `premier_jour` at `heure_debut`: `premier_jour` is an occurrence
    only if the rule matches it; UNTIL may be a date (that day included), a
    local time or a UTC time. None is a single occurrence on `premier_jour`.
    `fin` is the last possible day, included. `verifier_regle` says which
    rules are accepted.
    """

    id: int
    agent_id: int
    site_id: int
    motif_ids: frozenset[int]
    heure_debut: dt.time
    heure_fin: dt.time
    premier_jour: dt.date
    rrule: str | None
    fin: dt.date | None


@dataclass(frozen=True, slots=True)
class Absence:
    """A window in which an agent receives nobody, whatever the site.

    `debut` and `fin` are aware. With an `rrule`, the rule is expanded from
    the local `debut` (an occurrence itself only if the rule matches it, as
    for plages), each occurrence lasting the local duration from `debut` to
    `fin`: every Wednesday 13:30-17:00 stays so across daylight-saving changes.
    """

    agent_id: int
    debut: dt.datetime
    fin: dt.datetime
    rrule: str | None = None


@dataclass(frozen=True, slots=True)
class Occupation:
    """A busy interval of an agent (an existing rdv, whatever its motif or site), aware."""

    agent_id: int
    debut: dt.datetime
    fin: dt.datetime


@dataclass(frozen=True, slots=True)
class Occupations:
    """Busy intervals of agents in whole UTC seconds since the epoch: per agent, the flat
    list debut, fin, debut, fin... of its intervals [debut, fin), in any order. The same
    as an Occupation each.

    What a caller loading thousands of rdvs passes: no datetime per instant, and
    no object per rdv for the garbage collector to walk (bench/RESULTS.md).
    """

    par_agent: Mapping[int, Sequence[int]]

    def __len__(self) -> int:
        return sum(len(bornes) for bornes in self.par_agent.values()) // 2


@dataclass(frozen=True, slots=True)
class MotifRegles:
    """What the engine needs of a motif.

    A créneau starts at least `delai_min` and at most `delai_max` after now.
    `accoler` packs créneaux right after the previous busy interval instead
    of keeping them on the plage's grid.
    """

    id: int
    duree: dt.timedelta
    delai_min: dt.timedelta
    delai_max: dt.timedelta
    accoler: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    """An existing collective rdv of the motif (aware instants), its capacity and the
    number of its active participants."""

    rdv_id: int
    agent_id: int
    site_id: int
    debut: dt.datetime
    fin: dt.datetime
    capacite: int
    inscrits: int

    @property
    def places(self) -> int:
        return max(0, self.capacite - self.inscrits)


@dataclass(frozen=True, slots=True)
class Creneau:
    """A free slot: aware UTC instants, the agent, the site and the plage that offers it.

    For a collective motif, a créneau is a session one can join: `places` is the
    number of seats left (None for an individual créneau) and `plage_id` is 0.
    """

    debut: dt.datetime
    fin: dt.datetime
    agent_id: int
    site_id: int
    plage_id: int
    places: int | None = None
