"""The professional's side of rdvs: day and week agendas, a site's day, status changes,
booking on the phone, plages d'ouverture, absences and the private ICS feed.

Every function takes the signed-in `Principal` and checks what they may do:
an agent their own agenda, a responsable the agents and rdvs of their sites,
an admin their whole territoire; nothing of another territoire exists (404).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from plateforme.auth import Principal
from plateforme.db import lecture
from plateforme.errors import Conflict, Forbidden, NotFound
from rdv.formats import date_longue
from rdv.services import cycle, places
from rdv.services._agenda_acces import (
    AgentAgenda,
    agent_cible,
    agents_visibles,
    aujourd_hui,
    bornes_utc,
    fuseau,
    libelle_motif,
    motifs_et_sites,
    site_du_territoire,
    sites_visibles,
    verifier_droit_sur_rdv,
)
from rdv.services._agenda_flux import (
    calendrier_du_jeton,
    creer_flux,
    flux_actif,
    hash_jeton,
    revoquer_flux,
)
from rdv.services._agenda_participants import UsagerAgenda, participants_query, usager_agenda
from rdv.services._agenda_plages import (
    FREQUENCES,
    JOURS_RRULE,
    absences,
    enregistrer_absence,
    enregistrer_plage,
    plage,
    plages,
    supprimer_absence,
    supprimer_plage,
)
from rdv.services._agenda_reservation import (
    Chevauchement,
    RdvReserve,
    chercher_usagers,
    reserver_par_telephone,
    usager_du_territoire,
)
from rdv.tables import Rdv, RdvParticipant, StatutRdv
from sites.tables import AgentSite

__all__ = [
    "FREQUENCES",
    "JOURS_RRULE",
    "STATUTS",
    "AgentAgenda",
    "Chevauchement",
    "Journee",
    "JourneeSite",
    "RdvAgenda",
    "RdvReserve",
    "Semaine",
    "absences",
    "agent_cible",
    "agents_visibles",
    "calendrier_du_jeton",
    "changer_statut",
    "participant_a_desinscrire",
    "pointer_participant",
    "chercher_usagers",
    "creer_flux",
    "date_longue",
    "enregistrer_absence",
    "enregistrer_plage",
    "flux_actif",
    "fuseau",
    "hash_jeton",
    "journee",
    "journee_site",
    "libelle_motif",
    "motifs_et_sites",
    "plage",
    "plages",
    "rdv_agenda",
    "reserver_par_telephone",
    "revoquer_flux",
    "semaine",
    "sites_visibles",
    "supprimer_absence",
    "supprimer_plage",
    "usager_du_territoire",
]

STATUTS: dict[str, str] = {
    StatutRdv.a_venir: "À venir",
    StatutRdv.vu: "Vu",
    StatutRdv.absent: "Absent",
    StatutRdv.excuse: "Annulé par l'usager",
    StatutRdv.annule: "Annulé par le service",
}
# The order of the buttons on an rdv.
_ORDRE_TRANSITIONS = (StatutRdv.vu, StatutRdv.absent, StatutRdv.a_venir, StatutRdv.annule)


@dataclass(frozen=True)
class RdvAgenda:
    id: int
    debut: datetime  # local to the territoire
    fin: datetime
    statut: str
    motif: str
    site_id: int
    site: str
    agent_id: int
    agent: str
    # Every participant, those who left a collective session too (inscrit False).
    usagers: tuple[UsagerAgenda, ...]
    # The statuses the principal may set now; empty when they may change nothing.
    transitions: tuple[str, ...]
    # Local time the usager checked in at the site (kiosk or reception desk).
    arrive_at: datetime | None = None
    collectif: bool = False
    capacite: int | None = None

    @property
    def statut_libelle(self) -> str:
        return STATUTS.get(self.statut, self.statut)

    @property
    def inscrits(self) -> tuple[UsagerAgenda, ...]:
        return tuple(u for u in self.usagers if u.inscrit)

    @property
    def annulable(self) -> bool:
        return StatutRdv.annule in self.transitions


@dataclass(frozen=True)
class Journee:
    agent: AgentAgenda
    jour: date
    libelle: str
    rdvs: list[RdvAgenda]
    aujourd_hui: date


@dataclass(frozen=True)
class Semaine:
    agent: AgentAgenda
    lundi: date
    jours: list[tuple[date, str, list[RdvAgenda]]]
    aujourd_hui: date


@dataclass(frozen=True)
class JourneeSite:
    site: dict[str, Any]
    jour: date
    libelle: str
    # (agent id, "Prénom Nom", rdvs at this site), every agent of the site.
    agendas: list[tuple[int, str, list[RdvAgenda]]]
    aujourd_hui: date


def _transitions(principal: Principal, statut: str, agent_id: int, site_id: int) -> tuple[str, ...]:
    try:
        verifier_droit_sur_rdv(principal, agent_id=agent_id, site_id=site_id)
    except Forbidden:
        return ()
    permises = cycle.TRANSITIONS_AGENT.get(statut, set())
    return tuple(s.value for s in _ORDRE_TRANSITIONS if s in permises)


async def _rdvs(
    principal: Principal, zone: str, debut: datetime, fin: datetime, *where: Any
) -> list[RdvAgenda]:
    rows = (
        await Rdv.select(
            Rdv.id,
            Rdv.debut,
            Rdv.fin,
            Rdv.statut,
            Rdv.site,
            Rdv.agent,
            Rdv.arrive_at,
            Rdv.collectif,
            Rdv.capacite,
            Rdv.motif.nom.as_alias("motif_nom"),
            Rdv.site.nom.as_alias("site_nom"),
            Rdv.agent.prenom.as_alias("agent_prenom"),
            Rdv.agent.nom.as_alias("agent_nom"),
        )
        .where(Rdv.debut >= debut, Rdv.debut < fin, *where)
        .order_by(Rdv.debut)
        .order_by(Rdv.id)
    )
    usagers: dict[int, list[UsagerAgenda]] = defaultdict(list)
    if rows:
        for p in await participants_query([r["id"] for r in rows]):
            usagers[p["rdv"]].append(usager_agenda(p))
    tz = ZoneInfo(zone)
    return [
        RdvAgenda(
            id=r["id"],
            debut=r["debut"].astimezone(tz),
            fin=r["fin"].astimezone(tz),
            statut=r["statut"],
            motif=r["motif_nom"],
            site_id=r["site"],
            site=r["site_nom"],
            agent_id=r["agent"],
            agent=f"{r['agent_prenom']} {r['agent_nom']}",
            usagers=tuple(usagers[r["id"]]),
            transitions=_transitions(principal, r["statut"], r["agent"], r["site"]),
            arrive_at=r["arrive_at"].astimezone(tz) if r["arrive_at"] else None,
            collectif=r["collectif"],
            capacite=r["capacite"],
        )
        for r in rows
    ]


def _visibles(principal: Principal, cible: Any) -> list[Any]:
    """The rdvs of `cible` this principal may see: all of them for the agent and an
    admin, only those at their own sites for a responsable."""
    conditions = [Rdv.agent == cible.id]
    if not cible.soi_meme and not principal.is_admin:
        conditions.append(Rdv.site.is_in(sorted(principal.site_ids) or [-1]))
    return conditions


async def journee(principal: Principal, agent_id: int | None, jour: date | None) -> Journee:
    """The rdvs of an agent on one local day, every status, in order."""
    async with lecture():
        cible = await agent_cible(principal, agent_id)
        zone = await fuseau(principal)
        today = aujourd_hui(zone)
        jour = jour or today
        debut, fin = bornes_utc(jour, 1, zone)
        rdvs = await _rdvs(principal, zone, debut, fin, *_visibles(principal, cible))
    return Journee(cible, jour, date_longue(jour), rdvs, today)


async def semaine(principal: Principal, agent_id: int | None, du: date | None) -> Semaine:
    """The rdvs of an agent from the Monday of the week of `du`, day by day."""
    async with lecture():
        cible = await agent_cible(principal, agent_id)
        zone = await fuseau(principal)
        today = aujourd_hui(zone)
        lundi = (du or today) - timedelta(days=(du or today).weekday())
        debut, fin = bornes_utc(lundi, 7, zone)
        rdvs = await _rdvs(principal, zone, debut, fin, *_visibles(principal, cible))
    par_jour: dict[date, list[RdvAgenda]] = defaultdict(list)
    for rdv in rdvs:
        par_jour[rdv.debut.date()].append(rdv)
    jours = [lundi + timedelta(days=n) for n in range(7)]
    return Semaine(cible, lundi, [(j, date_longue(j), par_jour[j]) for j in jours], today)


async def journee_site(principal: Principal, site_id: int, jour: date | None) -> JourneeSite:
    """Every agenda of a site on one day, grouped by agent: for its responsable or an admin."""
    async with lecture():
        site = await site_du_territoire(principal, site_id)
        if not principal.manages_site(site_id):
            raise Forbidden("Seuls les responsables de ce site et les administrateurs y ont accès.")
        zone = await fuseau(principal)
        today = aujourd_hui(zone)
        jour = jour or today
        debut, fin = bornes_utc(jour, 1, zone)
        rdvs = await _rdvs(principal, zone, debut, fin, Rdv.site == site_id)
        membres = await AgentSite.select(
            AgentSite.agent.id.as_alias("id"),
            AgentSite.agent.prenom.as_alias("prenom"),
            AgentSite.agent.nom.as_alias("nom"),
        ).where(AgentSite.site == site_id, AgentSite.agent.actif.eq(True))
    agents = {m["id"]: (m["nom"], m["prenom"]) for m in membres}
    par_agent: dict[int, list[RdvAgenda]] = defaultdict(list)
    for rdv in rdvs:
        par_agent[rdv.agent_id].append(rdv)
        if rdv.agent_id not in agents:
            # Someone who received at this site that day without belonging to it any more.
            prenom, _, nom = rdv.agent.partition(" ")
            agents[rdv.agent_id] = (nom, prenom)
    ordre = sorted(agents.items(), key=lambda item: (item[1][0].lower(), item[1][1].lower()))
    return JourneeSite(
        site,
        jour,
        date_longue(jour),
        [(agent_id, f"{prenom} {nom}", par_agent[agent_id]) for agent_id, (nom, prenom) in ordre],
        today,
    )


async def _rdv_modifiable(principal: Principal, rdv_id: int) -> dict[str, Any]:
    row = (
        await Rdv.select(
            Rdv.id,
            Rdv.agent,
            Rdv.site,
            Rdv.debut,
            Rdv.fin,
            Rdv.statut,
            Rdv.motif.nom.as_alias("motif_nom"),
            Rdv.site.territoire.as_alias("territoire"),
        )
        .where(Rdv.id == rdv_id)
        .first()
    )
    if row is None or row["territoire"] != principal.territoire_id:
        raise NotFound("Ce rendez-vous n'existe pas.", code="rdv_introuvable")
    verifier_droit_sur_rdv(principal, agent_id=row["agent"], site_id=row["site"])
    return row


async def rdv_agenda(principal: Principal, rdv_id: int) -> RdvAgenda:
    """One rdv as the agenda shows it, if the principal may change it (the rdv they are
    about to cancel, or the one they just changed)."""
    async with lecture():
        return await _affiche(principal, await _rdv_modifiable(principal, rdv_id))


async def _affiche(principal: Principal, row: dict[str, Any]) -> RdvAgenda:
    """The rdv of `row` (from `_rdv_modifiable`) as the agenda shows it."""
    zone = await fuseau(principal)
    debut: datetime = row["debut"]
    rdvs = await _rdvs(principal, zone, debut, debut + timedelta(seconds=1), Rdv.id == row["id"])
    return rdvs[0]


async def _jour_local(principal: Principal, row: dict[str, Any]) -> date:
    """The local day of the rdv of `row`, in the territoire's zone."""
    debut: datetime = row["debut"]
    return debut.astimezone(ZoneInfo(await fuseau(principal))).date()


async def changer_statut(
    principal: Principal, rdv_id: int, statut: str, *, motif_annulation: str = ""
) -> date:
    """Set vu, absent, annulé (or back to à venir) as the principal; returns the rdv's local day.

    Raises NotFound (another territoire), Forbidden (not theirs to change),
    Invalid (unknown status) or Conflict (a transition the cycle refuses).
    """
    row = await _rdv_modifiable(principal, rdv_id)
    await cycle.changer_statut(
        rdv_id,
        statut,
        cycle.Acteur("agent", principal.agent_id),
        motif_annulation=motif_annulation.strip()[:200],
    )
    return await _jour_local(principal, row)


async def pointer_participant(
    principal: Principal, participant_id: int, statut: str
) -> tuple[int, date]:
    """Note whether one participant of a collective session came (vu, absent, or back to à
    venir), or take them off it (annulé).

    Returns the session's id and local day. Raises NotFound (no such seat in the
    territoire), Forbidden (not the principal's session), Invalid (unknown status) or
    Conflict (not now).
    """
    row = await _place_modifiable(principal, participant_id)
    acteur = cycle.Acteur("agent", principal.agent_id)
    if statut == StatutRdv.annule:
        await places.quitter(participant_id, statut, acteur)
    else:
        await places.pointer(participant_id, statut, acteur)
    return row["id"], await _jour_local(principal, row)


async def _place_modifiable(principal: Principal, participant_id: int) -> dict[str, Any]:
    """The session of a seat the principal may change, or raise."""
    place = (
        await RdvParticipant.select(
            RdvParticipant.rdv, RdvParticipant.rdv.collectif.as_alias("collectif")
        )
        .where(RdvParticipant.id == participant_id)
        .first()
    )
    if place is None:
        raise NotFound("Ce rendez-vous n'existe pas.", code="rdv_introuvable")
    row = await _rdv_modifiable(principal, place["rdv"])
    if not place["collectif"]:
        raise Conflict(
            "Ce rendez-vous est individuel : changez le statut du rendez-vous lui-même.",
            code="transition_impossible",
        )
    return row


async def participant_a_desinscrire(
    principal: Principal, participant_id: int
) -> tuple[RdvAgenda, UsagerAgenda]:
    """The session and the participant the principal is about to take off it."""
    async with lecture():
        rdv = await _affiche(principal, await _place_modifiable(principal, participant_id))
    usager = next(u for u in rdv.usagers if u.participant_id == participant_id)
    refus = places.refus_de_desinscription(rdv.statut, usager.statut)
    if refus is not None:
        raise refus
    return rdv, usager
