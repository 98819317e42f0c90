"""A participant's seat in a collective session: leaving it, moving to another session, or
the agent noting whether they came.

Each change is one write transaction that updates the seat, bumps its ICS
SEQUENCE and appends to the sessions' history (invariant 5). Moving goes
through the capacity trigger like a sign-up: a full session refuses it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from plateforme.db import is_unique_violation, lecture, write_transaction
from plateforme.errors import Conflict, Invalid, NotFound
from plateforme.reactions import reagir
from rdv.services.chargement import motif_info
from rdv.services.contraintes import is_complet, verrouiller_agent_de_la_place
from rdv.services.cycle import ANNULATIONS, APRES_LE_DEBUT, Acteur, journal
from rdv.services.reservation import (
    DejaInscrit,
    SessionComplete,
    prochains_creneaux,
    sessions_libres,
)
from rdv.tables import STATUTS_ACTIFS, RdvParticipant, StatutRdv


async def _place(participant_id: int, *, verrouiller: bool = False) -> dict[str, Any]:
    """The seat with its session; with `verrouiller` (in a write transaction), once the
    session's agent is locked, so that a change of the session waits (PostgreSQL)."""
    if verrouiller:
        await verrouiller_agent_de_la_place(participant_id)
    row = (
        await RdvParticipant.select(
            RdvParticipant.id,
            RdvParticipant.rdv,
            RdvParticipant.statut,
            RdvParticipant.rdv.statut.as_alias("statut_rdv"),
            RdvParticipant.rdv.debut.as_alias("debut"),
            RdvParticipant.rdv.motif.as_alias("motif"),
            RdvParticipant.rdv.site.as_alias("site"),
        )
        .where(RdvParticipant.id == participant_id)
        .first()
    )
    if row is None:
        raise NotFound("Ce rendez-vous n'existe pas.", code="rdv_introuvable")
    return row


async def quitter(participant_id: int, statut: str, acteur: Acteur) -> None:
    """The participant leaves the session (excusé, or annulé by the service); the seat is
    free again for someone else."""
    if statut not in ANNULATIONS:
        raise Invalid(fields={"statut": "Statut inconnu."})
    async with write_transaction():
        place = await _place(participant_id, verrouiller=True)
        refus = refus_de_desinscription(place["statut_rdv"], place["statut"])
        if refus is not None:
            raise refus
        left = await (
            RdvParticipant.update(
                {
                    RdvParticipant.statut: statut,
                    RdvParticipant.sequence: RdvParticipant.sequence + 1,
                    RdvParticipant.updated_at: datetime.now(UTC),
                }
            )
            .where(RdvParticipant.id == participant_id, RdvParticipant.statut == StatutRdv.a_venir)
            .returning(RdvParticipant.id)
        )
        if not left:
            raise Conflict("Cette inscription est déjà annulée.", code="transition_impossible")
        await journal(
            place["rdv"], "desinscription", statut, place["debut"], acteur, participant=place["id"]
        )
        await reagir(
            "rdv.annule",
            rdv_id=place["rdv"],
            participant_id=participant_id,
            par=acteur.kind,
            maintenant=datetime.now(UTC),
        )


def refus_de_desinscription(statut_session: str, statut_place: str) -> Conflict | None:
    """Why this seat cannot be left now, or None: only a seat à venir of a session à venir."""
    if statut_place in ANNULATIONS:
        return Conflict("Cette inscription est déjà annulée.", code="transition_impossible")
    if statut_session in ANNULATIONS:
        return Conflict("Cette session est annulée.", code="transition_impossible")
    if statut_session != StatutRdv.a_venir or statut_place != StatutRdv.a_venir:
        return Conflict(
            "Cette session a eu lieu : notez plutôt la personne absente.",
            code="transition_impossible",
        )
    return None


# Whether a participant came: set by the agent once the session has begun, and corrected.
PRESENCES = {StatutRdv.a_venir, StatutRdv.vu, StatutRdv.absent}


async def pointer(participant_id: int, statut: str, acteur: Acteur) -> None:
    """Note that a participant of a collective session came (vu) or not (absent), or undo it
    (à venir). Their seat stays taken either way; leaving it is `quitter`."""
    if statut not in PRESENCES:
        raise Invalid(fields={"statut": "Statut inconnu."})
    async with write_transaction():
        place = await _place(participant_id, verrouiller=True)
        if place["statut_rdv"] not in STATUTS_ACTIFS:
            raise Conflict("Cette session est annulée.", code="transition_impossible")
        courant = place["statut"]
        if courant not in STATUTS_ACTIFS:
            raise Conflict(
                "Cette inscription est annulée : la personne ne vient plus.",
                code="transition_impossible",
            )
        if statut == courant:
            return
        if statut in APRES_LE_DEBUT and place["debut"] > datetime.now(UTC):
            raise Conflict(
                "Cette session n'a pas encore commencé : personne ne peut y être vu ni absent.",
                code="rdv_pas_commence",
            )
        changed = await (
            RdvParticipant.update(
                {RdvParticipant.statut: statut, RdvParticipant.updated_at: datetime.now(UTC)}
            )
            .where(RdvParticipant.id == participant_id, RdvParticipant.statut == courant)
            .returning(RdvParticipant.id)
        )
        if not changed:
            raise Conflict("Cette inscription a changé entre-temps.", code="transition_impossible")
        await journal(
            place["rdv"],
            "presence",
            statut,
            place["debut"],
            acteur,
            participant=participant_id,
            avant=courant,
        )


async def changer_de_session(
    participant_id: int,
    nouveau_debut: datetime,
    acteur: Acteur,
    *,
    maintenant: datetime | None = None,
) -> datetime:
    """Move the participant to a session of the same motif and site starting at
    `nouveau_debut` with a seat left; returns its start.

    Raises Invalid (no such session, or the same time), SessionComplete (409,
    with the next sessions with seats), DejaInscrit or Conflict.
    """
    maintenant = maintenant or datetime.now(UTC)
    place = await _place(participant_id)
    if place["statut"] != StatutRdv.a_venir or place["statut_rdv"] != StatutRdv.a_venir:
        raise Conflict(
            "Seul un rendez-vous à venir peut être déplacé.", code="transition_impossible"
        )
    debut = nouveau_debut.astimezone(UTC).replace(second=0, microsecond=0)
    if debut == place["debut"]:
        raise Invalid(
            "Vous êtes déjà inscrit à la session de cette heure-là.",
            code="meme_session",
            fields={"debut": "votre session actuelle"},
        )
    motif = await motif_info(place["motif"], actifs_seulement=False)
    async with lecture():
        seances = await sessions_libres(motif, place["site"], debut, maintenant)
    for seance in seances:
        try:
            async with write_transaction():
                moved = await (
                    RdvParticipant.update(
                        {
                            RdvParticipant.rdv: seance.rdv_id,
                            RdvParticipant.sequence: RdvParticipant.sequence + 1,
                            RdvParticipant.updated_at: datetime.now(UTC),
                        }
                    )
                    .where(
                        RdvParticipant.id == participant_id,
                        RdvParticipant.rdv == place["rdv"],
                        RdvParticipant.statut == StatutRdv.a_venir,
                    )
                    .returning(RdvParticipant.id)
                )
                if not moved:
                    raise Conflict(
                        "Votre inscription a changé entre-temps.", code="transition_impossible"
                    )
                for rdv_id, quand in ((place["rdv"], place["debut"]), (seance.rdv_id, debut)):
                    await journal(
                        rdv_id,
                        "changement",
                        StatutRdv.a_venir,
                        quand,
                        acteur,
                        participant=participant_id,
                        depuis=place["rdv"],
                        vers=seance.rdv_id,
                    )
                await reagir(
                    "rdv.deplace",
                    rdv_id=seance.rdv_id,
                    participant_id=participant_id,
                    ancien_rdv=place["rdv"],
                    par=acteur.kind,
                    maintenant=datetime.now(UTC),
                )
            return seance.debut
        except Exception as error:
            if is_complet(error):
                continue  # filled meanwhile: the next session at that start, if any
            if is_unique_violation(error):
                raise DejaInscrit() from None
            raise
    async with lecture():
        prochains = await prochains_creneaux(motif, place["site"], debut, maintenant)
    raise SessionComplete(prochains)
