"""Booking a créneau: checked against the engine, guaranteed by the database.

The engine says whether the requested start is a créneau at all and which
agents are free then; the database (exclusion constraint or triggers) decides
between concurrent requests. Whatever the engine said, a refusal by the
database becomes `CreneauIndisponible`, a 409 offering the next free créneaux.

A collective motif is booked seat by seat (`_reservation_sessions`): agents
open its sessions from the agenda, at any time, and the public joins one with
a seat left. A full session is `SessionComplete`, a 409 offering the next
sessions with seats. The public never opens a session: that keeps a group's
size and its facilitator the service's choice, as RDV Solidarités' ateliers do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from plateforme.db import lecture, write_transaction
from plateforme.errors import Invalid, NotFound
from plateforme.reactions import reagir
from rdv import creneaux
from rdv.services import _usagers
from rdv.services._reservation_base import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CreneauIndisponible,
    DejaInscrit,
    DemandeRdv,
    RdvCree,
    SessionComplete,
    code_deja_tire,
    dans_la_fenetre,
    nouveau_code,
    nouvelle_place,
    par_agent,
    pour,
    prochains_creneaux,
)
from rdv.services._reservation_sessions import reserver_place, sessions_demandees, sessions_libres
from rdv.services._usagers import Personne, Proche, valider_personne, valider_proche
from rdv.services.chargement import MotifInfo, charger, motif_info, site_du_motif
from rdv.services.contraintes import is_chevauchement, verrouiller_agent
from rdv.tables import CanalCreation, Rdv, RdvHistorique, StatutRdv

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CreneauIndisponible",
    "DejaInscrit",
    "DemandeRdv",
    "Personne",
    "Proche",
    "RdvCree",
    "SessionComplete",
    "agents_libres",
    "nouveau_code",
    "ouvrir_session",
    "prochains_creneaux",
    "reserver",
    "sessions_libres",
    "valider_demande",
    "valider_personne",
    "valider_proche",
    "verifier_creneau",
]


def valider_demande(
    personne: Personne, proche: Proche | None, maintenant: datetime | None = None
) -> tuple[Personne, Proche | None]:
    """Who books and who comes, checked at once: Invalid lists every bad field."""
    maintenant = maintenant or datetime.now(UTC)
    # The latest date anywhere on Earth (UTC+14): a child born today in any
    # territoire is not "born in the future".
    return _usagers.valider(personne, proche, (maintenant + timedelta(hours=14)).date())


async def reserver(demande: DemandeRdv, *, maintenant: datetime | None = None) -> RdvCree:
    """Book the créneau, or a seat in the collective session starting then, or raise:
    Invalid (422), NotFound (404), CreneauIndisponible, SessionComplete or DejaInscrit (409)."""
    maintenant = maintenant or datetime.now(UTC)
    personne, proche = valider_demande(demande.personne, demande.proche, maintenant)
    # Every check reads from one snapshot; the write transaction comes after it,
    # never inside (SQLite would have to upgrade a read lock).
    seances: list[creneaux.Session] = []
    agents: list[int] = []
    async with lecture():
        motif, site, debut = await _preparer(demande, maintenant)
        if motif.collectif:
            seances = await sessions_demandees(motif, demande, debut, maintenant)
        if not seances:
            agents = await _agents_demandes(motif, demande, debut, maintenant)
    if seances:
        return await reserver_place(motif, site, demande, personne, proche, seances, maintenant)
    for agent_id in agents:
        try:
            return await _enregistrer(
                motif, site, demande, agent_id, debut, personne=personne, proche=proche
            )
        except Exception as error:
            if not is_chevauchement(error):
                raise
            # Taken between the engine's answer and the insert: try the next free agent.
    async with lecture():
        prochains = await prochains_creneaux(motif, demande.site_id, debut, maintenant)
    raise CreneauIndisponible(prochains)


async def ouvrir_session(
    motif_id: int,
    site_id: int,
    agent_id: int,
    debut: datetime,
    *,
    agent_createur_id: int,
) -> RdvCree:
    """An agent opens a collective session without anyone in it yet (people join online).

    Raises NotFound (motif or site), Invalid (not a collective motif) or
    CreneauIndisponible when the agent is busy then.
    """
    demande = DemandeRdv(
        motif_id,
        site_id,
        debut,
        Personne("", "", ""),
        agent_id=agent_id,
        canal=CanalCreation.agent,
        agent_createur_id=agent_createur_id,
    )
    async with lecture():
        motif, site, debut = await _preparer(demande, datetime.now(UTC))
    if not motif.collectif or motif.capacite is None:
        raise Invalid(
            "Ce motif n'est pas collectif : indiquez la personne reçue.",
            code="motif_individuel",
            fields={"prenom": "Le prénom est obligatoire."},
        )
    try:
        return await _enregistrer(motif, site, demande, agent_id, debut, personne=None)
    except Exception as error:
        if is_chevauchement(error):
            raise CreneauIndisponible([]) from None
        raise


async def _preparer(
    demande: DemandeRdv, maintenant: datetime
) -> tuple[MotifInfo, dict[str, Any], datetime]:
    """The motif, its site and the start on the minute (or raise why not)."""
    motif = await motif_info(demande.motif_id)
    if demande.canal == CanalCreation.en_ligne and not motif.reservable_en_ligne:
        raise NotFound("Ce motif ne se réserve pas en ligne.", code="motif_inconnu")
    site = await site_du_motif(motif, demande.site_id)
    debut = demande.debut.astimezone(UTC).replace(second=0, microsecond=0)
    if debut != demande.debut.astimezone(UTC):
        raise Invalid(
            "Ce n'est pas un créneau proposé.",
            code="creneau_invalide",
            fields={"debut": "pas un créneau"},
        )
    return motif, site, debut


async def _agents_demandes(
    motif: MotifInfo, demande: DemandeRdv, debut: datetime, maintenant: datetime
) -> list[int]:
    """The agents to try, in order (or raise why there is none)."""
    if demande.agent_id is not None and par_agent(demande):
        # Agents may book at any time (a phone call, an emergency), and open a
        # collective session where they have none: only the database's refusal
        # of an overlap applies.
        return [demande.agent_id]
    return await agents_libres(motif, demande.site_id, debut, maintenant)


async def verifier_creneau(
    motif: MotifInfo, site_id: int, debut: datetime, maintenant: datetime
) -> None:
    """Raise why `debut` cannot be booked now (Invalid, CreneauIndisponible, SessionComplete)."""
    if motif.collectif:
        await sessions_libres(motif, site_id, debut, maintenant)
    else:
        await agents_libres(motif, site_id, debut, maintenant)


async def agents_libres(
    motif: MotifInfo,
    site_id: int,
    debut: datetime,
    maintenant: datetime,
    *,
    agent_id: int | None = None,
    sauf_rdv: int | None = None,
) -> list[int]:
    """Agents for whom `debut` is a free créneau of this motif at this site, or raise why not."""
    dans_la_fenetre(motif, debut, maintenant)
    regles = motif.regles
    fenetre_debut, fenetre_fin = (
        debut - timedelta(minutes=1),
        debut + motif.duree + timedelta(minutes=1),
    )
    contexte = await charger(
        motif,
        debut=fenetre_debut,
        fin=fenetre_fin,
        site_ids=[site_id],
        agent_ids=[agent_id] if agent_id is not None else None,
        sauf_rdv=sauf_rdv,
    )
    libres = [
        c.agent_id
        for c in contexte.libres(fenetre_debut, fenetre_fin, maintenant)
        if c.debut == debut
    ]
    if libres:
        return libres
    theoriques = creneaux.creneaux_libres(
        contexte.plages,
        contexte.absences,
        [],
        contexte.jours_fermes,
        regles,
        fenetre_debut,
        fenetre_fin,
        maintenant,
        motif.fuseau,
    )
    if any(c.debut == debut for c in theoriques):
        raise CreneauIndisponible(await prochains_creneaux(motif, site_id, debut, maintenant))
    raise Invalid(
        "Ce n'est pas un créneau proposé.",
        code="creneau_invalide",
        fields={"debut": "pas un créneau"},
    )


async def _enregistrer(
    motif: MotifInfo,
    site: dict[str, Any],
    demande: DemandeRdv,
    agent_id: int,
    debut: datetime,
    *,
    personne: Personne | None,
    proche: Proche | None = None,
) -> RdvCree:
    """A new rdv (a new session for a collective motif), with its participant if any: who
    comes shares the rdv's code."""
    fin = debut + motif.duree
    for _ in range(5):
        code = nouveau_code()
        place: int | None = None
        try:
            async with write_transaction():
                await verrouiller_agent(agent_id)
                rdv = Rdv(
                    motif=motif.id,
                    site=demande.site_id,
                    agent=agent_id,
                    debut=debut,
                    fin=fin,
                    statut=StatutRdv.a_venir,
                    code=code,
                    canal_creation=demande.canal,
                    cree_par_agent=demande.agent_createur_id,
                    collectif=motif.collectif,
                    capacite=motif.capacite if motif.collectif else None,
                )
                await rdv.save()
                if personne is not None:
                    usager_id = await _usagers.participant(motif.territoire_id, personne, proche)
                    place = await nouvelle_place(rdv.id, usager_id, code)
                await RdvHistorique(
                    rdv=rdv.id,
                    evenement="cree",
                    statut=StatutRdv.a_venir,
                    debut=debut,
                    acteur="agent" if demande.agent_createur_id else "usager",
                    agent=demande.agent_createur_id,
                    details={"canal": str(demande.canal), "participant": place},
                ).save()
                if place is not None:
                    await reagir(
                        "rdv.cree",
                        rdv_id=rdv.id,
                        participant_id=place,
                        maintenant=datetime.now(UTC),
                    )
        except Exception as error:
            if code_deja_tire(error):
                continue  # another rdv drew the same code: draw again
            raise
        return RdvCree(
            id=int(rdv.id),
            code=code,
            debut=debut,
            fin=fin,
            agent_id=agent_id,
            site_id=demande.site_id,
            motif=motif,
            site=site,
            participant_id=place,
            pour=pour(personne, proche) if personne else "",
        )
    raise RuntimeError("could not draw a unique rdv code in 5 tries")
