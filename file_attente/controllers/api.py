"""JSON API of the queues: the public side (a ticket's page, joining from home), the reception
desk and the counters. Kiosks and displays have theirs in the bornes package."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from file_attente.schemas import (
    ActionOut,
    ArriveeDemande,
    ArriveeOut,
    GuichetOuverture,
    TicketDemande,
    TicketDistance,
    TicketOut,
    Transfert,
)
from file_attente.services import arrivee, etat, guichets, lieux, tickets
from file_attente.services.guichets import Action
from file_attente.tables import OrigineTicket, Priorite
from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.settings import get_settings


def ticket_out(emis: tickets.TicketEmis) -> TicketOut:
    return TicketOut(
        ticket=emis.code,
        jeton=emis.jeton,
        file=emis.file_id,
        file_nom=emis.file_nom,
        devant=emis.devant,
        attente_minutes=emis.attente_minutes,
        emis_at=emis.emis_at,
        url=f"{get_settings().public_url}/ticket/{emis.jeton}",
    )


def arrivee_out(resultat: arrivee.Arrivee) -> ArriveeOut:
    if resultat.ticket is not None:
        message = f"Vous êtes enregistré. Votre ticket : {resultat.ticket.code}."
    else:
        message = "Vous êtes enregistré. Installez-vous, on vient vous chercher."
    return ArriveeOut(
        rdv_debut=resultat.rdv_debut,
        deja_arrive=resultat.deja_arrive,
        ticket=ticket_out(resultat.ticket) if resultat.ticket else None,
        message=message,
    )


def action_out(action: Action) -> ActionOut:
    return ActionOut(
        ticket_id=action.ticket_id,
        ticket=action.code,
        statut=action.statut,
        guichet=action.guichet,
        file=action.file_id,
    )


class TicketPublicController(Controller):
    """No sign-in: what anyone may know of a site's queues, and a ticket's holder of theirs."""

    path = "/api"
    tags = ["File d'attente"]

    @get("/sites/{site_id:int}/files", operation_id="etatFilesSite")
    async def files(self, site_id: int) -> dict[str, Any]:
        """The site's queues with the people waiting, the estimated wait and the last calls."""
        return await etat.etat_public(site_id)

    @get("/tickets/{jeton:str}", operation_id="etatTicket")
    async def ticket(self, jeton: str) -> dict[str, Any]:
        """Where a ticket stands: its place, the estimated wait, the counter once called."""
        return await tickets.etat_ticket(jeton)

    @post(
        "/tickets/{jeton:str}/annuler",
        operation_id="annulerTicket",
        status_code=HTTP_200_OK,
        opt={"exclude_from_csrf": True},
    )
    async def annuler(self, jeton: str) -> dict[str, Any]:
        """The holder gives up their place."""
        return await tickets.annuler_par_jeton(jeton)

    @post(
        "/files/{file_id:int}/tickets",
        operation_id="ticketADistance",
        status_code=HTTP_201_CREATED,
        opt={"exclude_from_csrf": True},
    )
    async def distance(
        self, request: Request[Any, Any, Any], file_id: int, data: TicketDistance
    ) -> TicketOut:
        """Join a queue from home with a mobile number, to be told by SMS when to come."""
        ip = request.client.host if request.client else "inconnue"
        return ticket_out(await tickets.emettre_a_distance(file_id, data.telephone, ip=ip))


class AccueilController(Controller):
    """The reception desk of a site: tickets for people who ask, check-ins, cancellations."""

    path = "/api/sites/{site_id:int}"
    tags = ["File d'attente"]
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}

    async def _site(self, principal: Principal, site_id: int) -> lieux.SiteInfo:
        site = await lieux.site_info(site_id)
        guichets.verifier_site(principal, site)
        return site

    @get("/console", operation_id="consoleSite")
    async def console(self, principal: Principal, site_id: int) -> dict[str, Any]:
        """Counters and open tickets of the site, for its agents."""
        await self._site(principal, site_id)
        return await etat.etat_console(site_id)

    @post("/tickets", operation_id="ticketAccueil", status_code=HTTP_201_CREATED)
    async def emettre(self, principal: Principal, site_id: int, data: TicketDemande) -> TicketOut:
        """A ticket given at the desk; priority 1 for a priority card."""
        await self._site(principal, site_id)
        emis = await tickets.emettre(
            data.file,
            site_id=site_id,
            origine=OrigineTicket.accueil,
            priorite=Priorite.carte if data.priorite else Priorite.normale,
            telephone=data.telephone,
            agent_id=principal.agent_id,
        )
        return ticket_out(emis)

    @post("/arrivees", operation_id="arriveeAccueil", status_code=HTTP_201_CREATED)
    async def arrivee(self, principal: Principal, site_id: int, data: ArriveeDemande) -> ArriveeOut:
        """Check someone in for their rdv at the desk."""
        await self._site(principal, site_id)
        resultat = await arrivee.enregistrer(site_id, data.code, agent_id=principal.agent_id)
        return arrivee_out(resultat)

    @post("/tickets/{ticket_id:int}/annuler", operation_id="annulerTicketAgent", status_code=200)
    async def annuler(self, principal: Principal, site_id: int, ticket_id: int) -> ActionOut:
        return action_out(await guichets.annuler(principal, site_id, ticket_id))


class GuichetController(Controller):
    """A counter: open it for some queues, call, recall, serve, transfer."""

    path = "/api/guichets/{guichet_id:int}"
    tags = ["Guichets"]
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}

    @post("/ouvrir", operation_id="ouvrirGuichet", status_code=HTTP_200_OK)
    async def ouvrir(
        self, principal: Principal, guichet_id: int, data: GuichetOuverture
    ) -> dict[str, Any]:
        """Sit at this counter, serving these queues of its site."""
        return await guichets.ouvrir(principal, guichet_id, data.files)

    @post("/fermer", operation_id="fermerGuichet", status_code=HTTP_200_OK)
    async def fermer(self, principal: Principal, guichet_id: int) -> None:
        await guichets.fermer(principal, guichet_id)

    @post("/appeler-suivant", operation_id="appelerSuivant", status_code=HTTP_200_OK)
    async def suivant(self, principal: Principal, guichet_id: int) -> ActionOut:
        """Call the next ticket under the queues' call policy (409 when nobody waits)."""
        return action_out(await guichets.appeler_suivant(principal, guichet_id))

    @post("/tickets/{ticket_id:int}/appeler", operation_id="appelerTicket", status_code=HTTP_200_OK)
    async def appeler(self, principal: Principal, guichet_id: int, ticket_id: int) -> ActionOut:
        """Call this waiting ticket out of turn."""
        return action_out(await guichets.appeler(principal, guichet_id, ticket_id))

    @post(
        "/tickets/{ticket_id:int}/transferer",
        operation_id="transfererTicket",
        status_code=HTTP_200_OK,
    )
    async def transferer(
        self, principal: Principal, guichet_id: int, ticket_id: int, data: Transfert
    ) -> ActionOut:
        """Send the ticket to another queue of the site; its code stays."""
        return action_out(await guichets.transferer(principal, guichet_id, ticket_id, data.file))

    @post(
        "/tickets/{ticket_id:int}/{action:str}",
        operation_id="actionTicket",
        status_code=HTTP_200_OK,
    )
    async def agir(
        self, principal: Principal, guichet_id: int, ticket_id: int, action: str
    ) -> ActionOut:
        """`rappeler`, `absent`, `commencer` or `terminer` the counter's current ticket."""
        return action_out(await guichets.agir(principal, guichet_id, ticket_id, action))
