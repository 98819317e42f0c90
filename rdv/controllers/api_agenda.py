"""JSON API of the agents' agenda: a day of rdvs, and the statuses they set.

Signed-in agents only (the session cookie, and the CSRF header on writes, as the
pages); the same checks as the pages: an agent changes their own rdvs, a site's
responsable those of their sites, an admin those of the territoire.
"""

from __future__ import annotations

from datetime import date

from litestar import Controller, get, post
from litestar.di import Provide

from plateforme.auth import Principal, provide_principal, requires_agent
from rdv.schemas import JourneeAgenda, ParticipantAgenda, RdvAgendaOut, StatutIn
from rdv.services import agenda


def rdv_out(rdv: agenda.RdvAgenda) -> RdvAgendaOut:
    return RdvAgendaOut(
        id=rdv.id,
        debut=rdv.debut,
        fin=rdv.fin,
        statut=rdv.statut,
        motif=rdv.motif,
        site_id=rdv.site_id,
        site=rdv.site,
        agent_id=rdv.agent_id,
        agent=rdv.agent,
        participants=[
            ParticipantAgenda(
                id=u.participant_id,
                nom=u.nom,
                telephone=u.telephone_e164,
                statut=u.statut,
                sms_refuses=u.sms_refuses,
            )
            for u in rdv.usagers
        ],
        transitions=list(rdv.transitions),
        arrive_at=rdv.arrive_at,
        collectif=rdv.collectif,
        capacite=rdv.capacite,
    )


class AgendaApiController(Controller):
    path = "/api/agenda"
    tags = ["Agenda"]
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}

    @get("/", operation_id="agendaDuJour")
    async def jour(
        self, principal: Principal, jour: date | None = None, agent: int | None = None
    ) -> JourneeAgenda:
        """An agent's rdvs of one local day, every status (the signed-in agent and today by
        default). 403 for an agent the principal may not see."""
        journee = await agenda.journee(principal, agent, jour)
        return JourneeAgenda(
            agent_id=journee.agent.id,
            agent=f"{journee.agent.prenom} {journee.agent.nom}",
            jour=journee.jour,
            rdvs=[rdv_out(r) for r in journee.rdvs],
        )

    @post("/rdv/{rdv_id:int}/statut", operation_id="changerStatutRdv", status_code=200)
    async def statut(self, principal: Principal, rdv_id: int, data: StatutIn) -> RdvAgendaOut:
        """Mark an rdv vu, absent or annulé, or back to à venir. 409 when not allowed now
        (not begun yet, already cancelled), 422 for an unknown status."""
        await agenda.changer_statut(principal, rdv_id, data.statut, motif_annulation=data.motif)
        return rdv_out(await agenda.rdv_agenda(principal, rdv_id))

    @post(
        "/participants/{participant_id:int}/statut",
        operation_id="changerStatutParticipant",
        status_code=200,
    )
    async def statut_participant(
        self, principal: Principal, participant_id: int, data: StatutIn
    ) -> RdvAgendaOut:
        """In a collective session: mark one participant vu or absent (or back to à venir),
        or take them off it (annule), which frees their seat."""
        rdv_id, _ = await agenda.pointer_participant(principal, participant_id, data.statut)
        return rdv_out(await agenda.rdv_agenda(principal, rdv_id))
