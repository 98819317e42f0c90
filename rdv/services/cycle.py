"""The life of an rdv after booking: status changes, cancellations and moves, each logged.

Every change goes through one write transaction that updates the rdv and
appends to rdv_historique (invariant 5); a change the usager's calendar must
follow bumps the ICS SEQUENCE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plateforme.db import write_transaction
from plateforme.errors import Conflict, Invalid, NotFound
from plateforme.reactions import reagir
from rdv.services.chargement import MotifInfo, motif_info
from rdv.services.contraintes import is_chevauchement, verrouiller_agent
from rdv.services.reservation import CreneauIndisponible, agents_libres, prochains_creneaux
from rdv.tables import STATUTS_ACTIFS, Rdv, RdvHistorique, RdvParticipant, StatutRdv

# Which status an agent may set from which: cancelled rdvs stay cancelled (a new
# booking is the way back); seen and no-show may be corrected.
TRANSITIONS_AGENT: dict[str, set[str]] = {
    StatutRdv.a_venir: {StatutRdv.vu, StatutRdv.absent, StatutRdv.annule},
    StatutRdv.vu: {StatutRdv.a_venir, StatutRdv.absent},
    StatutRdv.absent: {StatutRdv.a_venir, StatutRdv.vu},
    StatutRdv.excuse: set(),
    StatutRdv.annule: set(),
}
ANNULATIONS = {StatutRdv.excuse, StatutRdv.annule}
# Only once the rdv has begun can the person have come or not.
APRES_LE_DEBUT = {StatutRdv.vu, StatutRdv.absent}
LIBELLES: dict[str, str] = {
    StatutRdv.a_venir: "à venir",
    StatutRdv.vu: "vu",
    StatutRdv.absent: "absent",
    StatutRdv.excuse: "excusé",
    StatutRdv.annule: "annulé",
}


@dataclass(frozen=True)
class Acteur:
    """Who makes a change: an agent (with their id), the usager, or the system."""

    kind: str  # agent, usager, systeme
    agent_id: int | None = None


SYSTEME = Acteur("systeme")
USAGER = Acteur("usager")


async def _rdv(rdv_id: int) -> dict[str, Any]:
    row = await Rdv.select().where(Rdv.id == rdv_id).first()
    if row is None:
        raise NotFound("Ce rendez-vous n'existe pas.", code="rdv_introuvable")
    return row


async def journal(
    rdv_id: int, evenement: str, statut: str, debut: datetime, acteur: Acteur, **details: Any
) -> None:
    """Append a change to the rdv's history (inside the change's write transaction)."""
    await RdvHistorique(
        rdv=rdv_id,
        evenement=evenement,
        statut=statut,
        debut=debut,
        acteur=acteur.kind,
        agent=acteur.agent_id,
        details=details,
    ).save()


async def changer_statut(
    rdv_id: int, statut: str, acteur: Acteur, *, motif_annulation: str = ""
) -> None:
    """Set a status an agent (or the usager, for excusé) may set now, or raise."""
    if statut not in TRANSITIONS_AGENT:
        raise Invalid(fields={"statut": "Statut inconnu."})
    try:
        async with write_transaction():
            change = await _changer(rdv_id, statut, acteur)
            if change is None:
                return
            rdv, courant = change
            await journal(
                rdv_id,
                "statut",
                statut,
                rdv["debut"],
                acteur,
                avant=courant,
                motif=motif_annulation,
            )
            if statut in ANNULATIONS:
                await reagir(
                    "rdv.annule", rdv_id=rdv_id, par=acteur.kind, maintenant=datetime.now(UTC)
                )
            elif statut in APRES_LE_DEBUT:
                await reagir("rdv.statut", rdv_id=rdv_id, statut=statut)
    except Exception as error:
        if is_chevauchement(error):
            # Back to "à venir" where another rdv now sits.
            raise Conflict(
                "Un autre rendez-vous occupe désormais ce créneau.", code="creneau_indisponible"
            ) from None
        raise


async def _changer(rdv_id: int, statut: str, acteur: Acteur) -> tuple[dict[str, Any], str] | None:
    """Set `statut` if it may follow the rdv's status as it is now: the rdv and its status
    before, or None when it has it already; raise when it may not.

    The UPDATE holds only if the status is still the one read: on PostgreSQL another
    transaction may have changed it in between (ten agents cancelling at once would
    otherwise cancel it ten times), and then the decision is made again on what it is.
    """
    while True:
        rdv = await _rdv(rdv_id)
        await verrouiller_agent(rdv["agent"])
        courant = rdv["statut"]
        if statut == courant:
            return None
        permis = TRANSITIONS_AGENT[courant] | (
            {StatutRdv.excuse} if acteur.kind == "usager" else set()
        )
        if statut not in permis:
            raise Conflict(
                f"Un rendez-vous {LIBELLES[courant]} ne peut pas devenir {LIBELLES[statut]}.",
                code="transition_impossible",
            )
        if statut in APRES_LE_DEBUT and rdv["debut"] > datetime.now(UTC):
            raise Conflict(
                "Ce rendez-vous n'a pas encore commencé : il ne peut pas être vu ni manqué.",
                code="rdv_pas_commence",
            )
        values: dict[Any, Any] = {Rdv.statut: statut, Rdv.updated_at: datetime.now(UTC)}
        sequence = statut in ANNULATIONS or courant in ANNULATIONS
        if sequence:
            values[Rdv.sequence] = Rdv.sequence + 1
        if await (
            Rdv.update(values).where(Rdv.id == rdv_id, Rdv.statut == courant).returning(Rdv.id)
        ):
            if sequence and rdv["collectif"]:
                await suivre_la_session(rdv_id)
            return rdv, courant


async def deplacer(
    rdv_id: int,
    nouveau_debut: datetime,
    acteur: Acteur,
    *,
    maintenant: datetime | None = None,
    libre_choix: bool = False,
) -> datetime:
    """Move an rdv to another start at the same site; the usager only onto a free créneau.

    With `libre_choix` (agents), any time is accepted as long as the agent is
    free then; otherwise the new start must be a free créneau of the motif,
    possibly with another agent of the site. Returns the new start.
    """
    maintenant = maintenant or datetime.now(UTC)
    rdv = await _rdv(rdv_id)
    if rdv["statut"] != StatutRdv.a_venir:
        raise Conflict(
            "Seul un rendez-vous à venir peut être déplacé.", code="transition_impossible"
        )
    # A motif withdrawn from booking still describes the rdvs already booked.
    motif = await motif_info(rdv["motif"], actifs_seulement=False)
    debut = nouveau_debut.astimezone(UTC).replace(second=0, microsecond=0)
    agents = (
        [rdv["agent"]]
        if libre_choix
        else await agents_libres(motif, rdv["site"], debut, maintenant, sauf_rdv=rdv_id)
    )
    if rdv["agent"] in agents:
        agents.remove(rdv["agent"])
        agents.insert(0, rdv["agent"])  # keep the same professional when possible
    for agent_id in agents:
        try:
            async with write_transaction():
                await verrouiller_agent(agent_id)
                moved = await (
                    Rdv.update(
                        {
                            Rdv.debut: debut,
                            Rdv.fin: debut + motif.duree,
                            Rdv.agent: agent_id,
                            Rdv.sequence: Rdv.sequence + 1,
                            Rdv.updated_at: datetime.now(UTC),
                        }
                    )
                    .where(Rdv.id == rdv_id, Rdv.statut == StatutRdv.a_venir)
                    .returning(Rdv.id)
                )
                if not moved:
                    # Cancelled meanwhile: nothing moved, so nothing is logged.
                    raise Conflict(
                        "Ce rendez-vous a été annulé entre-temps.", code="transition_impossible"
                    )
                if rdv["collectif"]:
                    await suivre_la_session(rdv_id)
                await journal(
                    rdv_id,
                    "deplace",
                    StatutRdv.a_venir,
                    debut,
                    acteur,
                    avant=rdv["debut"].isoformat(),
                    agent_avant=rdv["agent"],
                    agent_apres=agent_id,
                )
                await reagir(
                    "rdv.deplace", rdv_id=rdv_id, par=acteur.kind, maintenant=datetime.now(UTC)
                )
            return debut
        except Exception as error:
            if not is_chevauchement(error):
                raise
    raise CreneauIndisponible(await prochains_creneaux(motif, rdv["site"], debut, maintenant))


async def suivre_la_session(rdv_id: int) -> None:
    """The participants' calendar events follow a change of their session (moved, cancelled):
    each seat has its own ICS SEQUENCE."""
    await RdvParticipant.update(
        {
            RdvParticipant.sequence: RdvParticipant.sequence + 1,
            RdvParticipant.updated_at: datetime.now(UTC),
        }
    ).where(
        RdvParticipant.rdv == rdv_id,
        RdvParticipant.statut.is_in([str(s) for s in STATUTS_ACTIFS]),
    )


def peut_encore_changer(motif: MotifInfo, debut: datetime, maintenant: datetime) -> bool:
    return debut - maintenant >= motif.delai_annulation
