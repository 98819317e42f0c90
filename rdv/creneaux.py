"""The slot engine: free créneaux from plages minus absences, rdvs and closed days.

Pure code over plain data: no database, no web framework. The caller loads
the plages offering the motif, the absences and occupations of their agents
within the window and the closed days of their sites, in a fixed number of
queries; what it passes beyond that is skipped, but still costs a loop.

Créneaux sit on the grid of each plage occurrence (its start + k × duree):
a busy position is dropped without moving the next ones. A motif with
`accoler` packs them right after each busy interval instead.

A collective motif offers no créneau from the plages: its sessions are
opened by agents, and the public joins the ones with a seat left
(`sessions_ouvertes`), like the "ateliers" of RDV Solidarités.

Two créneaux of the same agent at two sites at overlapping times may both
be offered (an agent holding overlapping plages at two sites is an
admin's mistake the engine does not guess about); booking one makes the
agent busy, and the booking service's database constraint refuses the
other one if two usagers race for them.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from rdv._creneaux_donnees import (
    Absence,
    Creneau,
    MotifRegles,
    Occupation,
    Occupations,
    PlageOuverture,
    Session,
)
from rdv._creneaux_recurrence import (
    EPOCH,
    MICROSECONDE,
    en_us,
    fenetre_plages,
    occurrences_absence,
    occurrences_plage,
)
from rdv._creneaux_regles import RegleInvalide, verifier_regle

__all__ = [
    "Absence",
    "Creneau",
    "MotifRegles",
    "Occupation",
    "Occupations",
    "PlageOuverture",
    "RegleInvalide",
    "Session",
    "creneaux_libres",
    "premier_par_site",
    "prochain_creneau_par_site",
    "sessions_ouvertes",
    "verifier_regle",
]

# (start, end, site_id, agent_id, plage_id) of one plage occurrence. Inside the
# engine, instants are UTC microseconds since the epoch: integer arithmetic
# and comparisons keep the inner loop cheap; Creneau gets datetimes back.
_Occurrence = tuple[int, int, int, int, int]
# Per agent, the merged busy intervals: starts and ends, both sorted.
_Occupe = tuple[list[int], list[int]]
_SECONDE_US = 1_000_000


@dataclass(frozen=True, slots=True)
class _Bornes:
    """Where créneaux may lie: start in [debut_min, debut_max], end at or before fin_max."""

    debut_min: int
    debut_max: int
    fin_max: int
    duree: int
    accoler: bool


def _aware(instant: dt.datetime, nom: str) -> dt.datetime:
    if instant.utcoffset() is None:
        raise ValueError(f"{nom} : date et heure sans fuseau ({instant.isoformat()})")
    return instant


def _bornes(
    motif: MotifRegles, debut: dt.datetime, fin: dt.datetime, maintenant: dt.datetime
) -> _Bornes:
    if motif.duree <= dt.timedelta(0):
        raise ValueError(f"motif {motif.id} : la durée doit être positive")
    maintenant = _aware(maintenant, "maintenant")
    return _Bornes(
        debut_min=en_us(max(_aware(debut, "debut"), maintenant, maintenant + motif.delai_min)),
        debut_max=en_us(maintenant + motif.delai_max),
        fin_max=en_us(_aware(fin, "fin")),
        duree=motif.duree // MICROSECONDE,
        accoler=motif.accoler,
    )


def _occurrences(
    plages: Iterable[PlageOuverture],
    jours_fermes: Mapping[int, AbstractSet[dt.date]],
    motif_id: int,
    bornes: _Bornes,
    fuseau: str,
) -> list[_Occurrence]:
    """The occurrences that may hold a créneau, sorted by start, site, agent and plage."""
    apres = bornes.debut_min
    avant = min(bornes.fin_max, bornes.debut_max + bornes.duree)
    if avant - apres < bornes.duree:
        return []
    result: list[_Occurrence] = []
    fenetre = fenetre_plages(fuseau, apres, avant)
    for plage in plages:
        if motif_id not in plage.motif_ids:
            continue
        fermes = jours_fermes.get(plage.site_id, ())
        for start, end, jour in occurrences_plage(plage, fuseau, apres, avant, fenetre):
            if jour not in fermes:
                result.append((start, end, plage.site_id, plage.agent_id, plage.id))
    result.sort()
    return result


def _occupe(
    occurrences: list[_Occurrence],
    absences: Iterable[Absence],
    occupations: Iterable[Occupation] | Occupations,
    bornes: _Bornes,
    fuseau: str,
) -> dict[int, _Occupe]:
    """The busy intervals of the agents of these occurrences, merged and sorted once.

    Kept from the first occurrence start on, not from debut_min: the accoler
    walk starts at the occurrence start, and what it skips before "now"
    decides where the later créneaux fall.
    """
    if not occurrences:
        return {}
    apres, avant = occurrences[0][0], bornes.fin_max
    par_agent: dict[int, list[tuple[int, int]]] = {o[3]: [] for o in occurrences}
    secondes: Mapping[int, Sequence[int]] = {}
    if isinstance(occupations, Occupations):
        secondes, occupations = occupations.par_agent, ()
    try:
        for occupation in occupations:
            intervalles = par_agent.get(occupation.agent_id)
            if intervalles is not None:
                # en_us inlined: this loop sees every rdv of the window.
                start = (occupation.debut - EPOCH) // MICROSECONDE
                end = (occupation.fin - EPOCH) // MICROSECONDE
                if start < avant and end > apres:
                    intervalles.append((start, end))
    except TypeError as error:  # a naive datetime cannot be subtracted from EPOCH
        raise ValueError(f"occupation : date et heure sans fuseau ({error})") from error
    for absence in absences:
        intervalles = par_agent.get(absence.agent_id)
        if intervalles is not None:
            intervalles.extend(occurrences_absence(absence, fuseau, apres, avant))
    # start < avant and end > apres, compared in seconds.
    avant_s, apres_s = -(-avant // _SECONDE_US), apres // _SECONDE_US
    result: dict[int, _Occupe] = {}
    for agent, intervalles in par_agent.items():
        valeurs = iter(secondes.get(agent, ()))
        intervalles.extend(
            (debut * _SECONDE_US, fin * _SECONDE_US)
            for debut, fin in zip(valeurs, valeurs, strict=False)
            if debut < avant_s and fin > apres_s
        )
        intervalles.sort()
        starts: list[int] = []
        ends: list[int] = []
        dernier = None  # the end of the last merged interval
        for start, end in intervalles:
            if end <= start:
                continue
            # Touching intervals merge too: nothing fits between them.
            if dernier is not None and start <= dernier:
                if end > dernier:
                    ends[-1] = dernier = end
            else:
                starts.append(start)
                ends.append(end)
                dernier = end
        # One agent's pairs at a time: thousands of live tuples would make the
        # garbage collector walk the whole heap on the next searches.
        intervalles.clear()
        result[agent] = (starts, ends)
    return result


def _debuts(start: int, end: int, occupe: _Occupe, bornes: _Bornes) -> Iterator[int]:
    """The starts of the free créneaux in one occurrence [start, end), in order."""
    duree = bornes.duree
    debut_max = bornes.debut_max
    fin = min(end, bornes.fin_max)
    starts, ends = occupe
    n = len(ends)
    i = 0
    if bornes.accoler:
        # Walk from the occurrence start; skip to the end of what is busy.
        curseur = start
        while curseur <= debut_max and curseur + duree <= fin:
            i = bisect_right(ends, curseur, i)
            if i < n and starts[i] < curseur + duree:
                curseur = ends[i]
                continue
            if curseur >= bornes.debut_min:
                yield curseur
            curseur += duree
        return
    # The grid: start + k × duree; a busy position is dropped, the next ones
    # do not move (a 20-minute rdv at 09:00 leaves 09:30 free, not 09:20).
    position = start + max(0, -((start - bornes.debut_min) // duree)) * duree
    while position <= debut_max and position + duree <= fin:
        i = bisect_right(ends, position, i)
        if i < n and starts[i] < position + duree:
            # The first grid position at or after the end of that busy interval.
            position = start - ((start - ends[i]) // duree) * duree
            continue
        yield position
        position += duree


def _datetimes(instants: Iterable[int], duree: int) -> dict[int, dt.datetime]:
    """Starts and ends as aware UTC datetimes: thousands of créneaux share a few hundred."""
    debuts = set(instants)
    return {us: EPOCH + us * MICROSECONDE for us in debuts | {d + duree for d in debuts}}


def creneaux_libres(
    plages: Iterable[PlageOuverture],
    absences: Iterable[Absence],
    occupations: Iterable[Occupation] | Occupations,
    jours_fermes: Mapping[int, AbstractSet[dt.date]],
    motif: MotifRegles,
    debut: dt.datetime,
    fin: dt.datetime,
    maintenant: dt.datetime,
    fuseau: str,
) -> list[Creneau]:
    """The free créneaux of `motif` within [debut, fin), sorted by (debut, site_id, agent_id).

    Overlapping plages of one agent at one site give each créneau once (with
    the smallest plage id). Raises RegleInvalide for an unreadable rrule.
    """
    bornes = _bornes(motif, debut, fin, maintenant)
    occurrences = _occurrences(plages, jours_fermes, motif.id, bornes, fuseau)
    occupe = _occupe(occurrences, absences, occupations, bornes, fuseau)
    trouves: list[tuple[int, int, int, int]] = []
    for start, end, site_id, agent_id, plage_id in occurrences:
        for position in _debuts(start, end, occupe[agent_id], bornes):
            trouves.append((position, site_id, agent_id, plage_id))
    trouves.sort()
    duree = bornes.duree
    instant = _datetimes((t[0] for t in trouves), duree)
    result: list[Creneau] = []
    precedent = (-1, -1, -1)
    for position, site_id, agent_id, plage_id in trouves:
        # Sorted: a duplicate follows the one with the smallest plage id.
        cle = (position, site_id, agent_id)
        if cle != precedent:
            precedent = cle
            result.append(
                Creneau(instant[position], instant[position + duree], agent_id, site_id, plage_id)
            )
    return result


def prochain_creneau_par_site(
    plages: Iterable[PlageOuverture],
    absences: Iterable[Absence],
    occupations: Iterable[Occupation] | Occupations,
    jours_fermes: Mapping[int, AbstractSet[dt.date]],
    motif: MotifRegles,
    debut: dt.datetime,
    fin: dt.datetime,
    maintenant: dt.datetime,
    fuseau: str,
) -> dict[int, Creneau]:
    """The first free créneau of each site that has one, keyed and ordered by site id.

    The same créneau as the first one of that site in `creneaux_libres`.
    Occurrences are visited by start time and a site stops being searched
    as soon as its best créneau starts before the next occurrence does.
    """
    bornes = _bornes(motif, debut, fin, maintenant)
    occurrences = _occurrences(plages, jours_fermes, motif.id, bornes, fuseau)
    occupe = _occupe(occurrences, absences, occupations, bornes, fuseau)
    meilleurs: dict[int, tuple[int, int, int]] = {}
    for start, end, site_id, agent_id, plage_id in occurrences:
        meilleur = meilleurs.get(site_id)
        # Every créneau of an occurrence starts at or after the occurrence.
        if meilleur is not None and start > meilleur[0]:
            continue
        position = next(_debuts(start, end, occupe[agent_id], bornes), None)
        if position is None:
            continue
        candidat = (position, agent_id, plage_id)
        if meilleur is None or candidat < meilleur:
            meilleurs[site_id] = candidat
    duree = bornes.duree
    instant = _datetimes((m[0] for m in meilleurs.values()), duree)
    return {
        site_id: Creneau(instant[position], instant[position + duree], agent_id, site_id, plage_id)
        for site_id, (position, agent_id, plage_id) in sorted(meilleurs.items())
    }


def sessions_ouvertes(
    sessions: Iterable[Session],
    motif: MotifRegles,
    debut: dt.datetime,
    fin: dt.datetime,
    maintenant: dt.datetime,
) -> list[Creneau]:
    """The collective sessions one may still join within [debut, fin), sorted by (debut, site_id).

    A session is offered as a créneau would be: it starts within the motif's
    booking window and ends by `fin`; and it has a seat left. Sessions of one site
    at the same start make one créneau whose `places` add up (the public cannot
    tell them apart); its agent is that of the first of them, by rdv id.
    """
    bornes = _bornes(motif, debut, fin, maintenant)
    groupes: dict[tuple[int, int], list[Session]] = {}
    for session in sessions:
        start = en_us(_aware(session.debut, "debut de session"))
        if session.places <= 0 or not bornes.debut_min <= start <= bornes.debut_max:
            continue
        if en_us(_aware(session.fin, "fin de session")) > bornes.fin_max:
            continue
        groupes.setdefault((start, session.site_id), []).append(session)
    result: list[Creneau] = []
    for cle in sorted(groupes):
        groupe = sorted(groupes[cle], key=lambda s: s.rdv_id)
        premiere = groupe[0]
        result.append(
            Creneau(
                premiere.debut.astimezone(dt.UTC),
                premiere.fin.astimezone(dt.UTC),
                premiere.agent_id,
                premiere.site_id,
                0,
                places=sum(s.places for s in groupe),
            )
        )
    return result


def premier_par_site(creneaux: Iterable[Creneau]) -> dict[int, Creneau]:
    """The earliest of each site's créneaux, keyed and ordered by site id."""
    premiers: dict[int, Creneau] = {}
    for creneau in creneaux:
        connu = premiers.get(creneau.site_id)
        if connu is None or (creneau.debut, creneau.agent_id) < (connu.debut, connu.agent_id):
            premiers[creneau.site_id] = creneau
    return dict(sorted(premiers.items()))
