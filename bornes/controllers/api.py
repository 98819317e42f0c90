"""JSON API of the devices: pairing, heartbeat, a kiosk's tickets and check-ins; and the
managers' list of a site's devices."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from bornes.controllers.auth import AppareilRevoque, exiger, jeton, provide_appareil_api
from bornes.schemas import Appairage, AppairageOut, AppareilMoi, DemandeAppairage
from bornes.services import appareils
from bornes.services.appareils import AppareilInfo
from file_attente.controllers.api import arrivee_out, ticket_out
from file_attente.schemas import ArriveeDemande, ArriveeOut, TicketDemande, TicketOut
from file_attente.services import arrivee, etat, tickets
from file_attente.tables import OrigineTicket
from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import NotAuthenticated

NO_CSRF = {"exclude_from_csrf": True}


class AppairageController(Controller):
    path = "/api/appareils"
    tags = ["Bornes et écrans"]

    @post("/appairage", operation_id="demanderAppairage", status_code=HTTP_201_CREATED, opt=NO_CSRF)
    async def demander(self, data: DemandeAppairage) -> AppairageOut:
        """A new device asks to be paired: it keeps the token and shows the code."""
        demande = await appareils.demander_appairage(data.kind)
        return AppairageOut(
            appareil=demande.appareil_id,
            jeton=demande.jeton,
            code=demande.code,
            expire_at=demande.expire_at,
        )

    @get("/moi", operation_id="appareilMoi")
    async def moi(self, request: Request[Any, Any, Any]) -> AppareilMoi:
        """The device's own state: polled while it waits to be paired."""
        info = await appareils.authentifier(jeton(request, cookie=False))
        if info is None:
            raise NotAuthenticated("Appareil inconnu.", code="appareil_inconnu")
        if info.revoque:
            raise AppareilRevoque()
        return AppareilMoi(
            appareil=info.id, kind=info.kind, nom=info.nom, site=info.site_id, appaire=info.appaire
        )

    @post(
        "/battement",
        operation_id="battementAppareil",
        status_code=HTTP_204_NO_CONTENT,
        opt=NO_CSRF,
        dependencies={"appareil": Provide(provide_appareil_api)},
    )
    async def battement(self, appareil: AppareilInfo) -> None:
        """The device is alive (sockets do it with their pings)."""
        await appareils.battement(appareil.id)


class BorneController(Controller):
    """What a paired kiosk does; its site is the one it was paired to."""

    path = "/api/borne"
    tags = ["Bornes et écrans"]
    dependencies = {"appareil": Provide(provide_appareil_api)}

    @get("/etat", operation_id="etatBorne")
    async def etat(self, appareil: AppareilInfo) -> dict[str, Any]:
        """The site's queues, as the kiosk shows them."""
        assert appareil.site_id is not None
        return await etat.etat_public(appareil.site_id)

    @post("/tickets", operation_id="ticketBorne", status_code=HTTP_201_CREATED, opt=NO_CSRF)
    async def ticket(self, appareil: AppareilInfo, data: TicketDemande) -> TicketOut:
        """A walk-in ticket (no priority from a kiosk: that is for the reception desk)."""
        exiger(appareil, "borne")
        emis = await tickets.emettre(
            data.file,
            site_id=appareil.site_id,
            origine=OrigineTicket.borne,
            appareil=appareil.id,
            telephone=data.telephone,
        )
        return ticket_out(emis)

    @post("/arrivees", operation_id="arriveeBorne", status_code=HTTP_201_CREATED, opt=NO_CSRF)
    async def arrivee(self, appareil: AppareilInfo, data: ArriveeDemande) -> ArriveeOut:
        """Check in for today's rdv at this site with its code."""
        exiger(appareil, "borne")
        assert appareil.site_id is not None
        return arrivee_out(
            await arrivee.enregistrer(appareil.site_id, data.code, appareil=appareil.id)
        )


class AppareilsAdminController(Controller):
    """A site's managers pair, list and revoke its devices."""

    path = "/api"
    tags = ["Bornes et écrans"]
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}

    @get("/sites/{site_id:int}/appareils", operation_id="appareilsSite")
    async def lister(self, principal: Principal, site_id: int) -> list[dict[str, Any]]:
        """The devices of the site with their last heartbeat and state."""
        return await appareils.lister(principal, site_id)

    @post("/sites/{site_id:int}/appareils", operation_id="appairerAppareil", status_code=201)
    async def appairer(self, principal: Principal, site_id: int, data: Appairage) -> dict[str, Any]:
        """Bind the device showing this code to the site."""
        return await appareils.appairer(principal, site_id, data.code, data.nom, data.kind)

    @post("/appareils/{appareil_id:int}/revoquer", operation_id="revoquerAppareil", status_code=204)
    async def revoquer(self, principal: Principal, appareil_id: int) -> None:
        """Its token stops working at once; its sockets close."""
        await appareils.revoquer(principal, appareil_id)
