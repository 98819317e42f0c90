"""Booking a seat in a collective session: agents open the sessions, the public joins one
with a seat left, and the capacity trigger decides between concurrent sign-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from plateforme.db import is_unique_violation, lecture, write_transaction
from plateforme.errors import Invalid
from plateforme.reactions import reagir
from rdv import creneaux
from rdv.services import _usagers
from rdv.services._reservation_base import (
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
from rdv.services._usagers import Personne, Proche
from rdv.services.chargement import MotifInfo, sessions
from rdv.services.contraintes import is_complet
from rdv.tables import RdvHistorique, StatutRdv


async def sessions_demandees(
    motif: MotifInfo, demande: DemandeRdv, debut: datetime, maintenant: datetime
) -> list[creneaux.Session]:
    """The sessions to try, in order: for an agent, theirs at that start, full or not (none:
    they open one); for the public, those with a seat left (or raise why there is none)."""
    if not par_agent(demande):
        return await sessions_libres(motif, demande.site_id, debut, maintenant)
    return await _au_debut(motif, demande.site_id, debut, agent_id=demande.agent_id)


async def _au_debut(
    motif: MotifInfo, site_id: int, debut: datetime, *, agent_id: int | None = None
) -> list[creneaux.Session]:
    """The sessions at this site starting exactly at `debut`, full ones too, by id."""
    found = await sessions(
        motif,
        debut=debut,
        fin=debut + timedelta(minutes=1),
        site_ids=[site_id],
        agent_ids=None if agent_id is None else [agent_id],
    )
    return sorted((s for s in found if s.debut == debut), key=lambda s: s.rdv_id)


async def sessions_libres(
    motif: MotifInfo, site_id: int, debut: datetime, maintenant: datetime
) -> list[creneaux.Session]:
    """The collective sessions at this site starting at `debut` with a seat left, by id;
    raise SessionComplete when they are all full, Invalid when there is none."""
    dans_la_fenetre(motif, debut, maintenant)
    found = await _au_debut(motif, site_id, debut)
    libres = [s for s in found if s.places > 0]
    if libres:
        return libres
    if found:
        raise SessionComplete(await prochains_creneaux(motif, site_id, debut, maintenant))
    raise Invalid(
        "Aucune session ne commence à cette heure-là.",
        code="creneau_invalide",
        fields={"debut": "pas une session"},
    )


async def reserver_place(
    motif: MotifInfo,
    site: dict[str, Any],
    demande: DemandeRdv,
    personne: Personne,
    proche: Proche | None,
    seances: list[creneaux.Session],
    maintenant: datetime,
) -> RdvCree:
    """A seat in the first of these sessions (all at one start) that still has one."""
    for seance in seances:
        try:
            return await _inscrire(motif, site, demande, personne, proche, seance)
        except Exception as error:
            if not is_complet(error):
                raise
            # Filled between the reading and the insert: try the next session then.
    async with lecture():
        prochains = await prochains_creneaux(motif, demande.site_id, seances[0].debut, maintenant)
    raise SessionComplete(prochains)


async def _inscrire(
    motif: MotifInfo,
    site: dict[str, Any],
    demande: DemandeRdv,
    personne: Personne,
    proche: Proche | None,
    seance: creneaux.Session,
) -> RdvCree:
    """One seat in the session, with a code of its own; the capacity trigger may refuse it."""
    for _ in range(5):
        code = nouveau_code()
        try:
            async with write_transaction():
                usager_id = await _usagers.participant(motif.territoire_id, personne, proche)
                place = await nouvelle_place(seance.rdv_id, usager_id, code)
                await RdvHistorique(
                    rdv=seance.rdv_id,
                    evenement="inscription",
                    statut=StatutRdv.a_venir,
                    debut=seance.debut,
                    acteur="agent" if demande.agent_createur_id else "usager",
                    agent=demande.agent_createur_id,
                    details={"canal": str(demande.canal), "participant": place},
                ).save()
                await reagir(
                    "rdv.cree",
                    rdv_id=seance.rdv_id,
                    participant_id=place,
                    maintenant=datetime.now(UTC),
                )
        except Exception as error:
            if code_deja_tire(error):
                continue
            if is_unique_violation(error):
                raise DejaInscrit() from None
            raise
        return RdvCree(
            id=seance.rdv_id,
            code=code,
            debut=seance.debut,
            fin=seance.fin,
            agent_id=seance.agent_id,
            site_id=seance.site_id,
            motif=motif,
            site=site,
            participant_id=place,
            pour=pour(personne, proche),
        )
    raise RuntimeError("could not draw a unique participant code in 5 tries")
