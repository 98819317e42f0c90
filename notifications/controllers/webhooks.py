"""Webhooks of the SMS providers: delivery reports and inbound SMS (STOP).

Configure them at the provider as
`{PUBLIC_URL}/webhooks/sms/{fournisseur}/{territoire}/accuses` and `.../entrants`;
how each provider authenticates them is in its module.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, route
from litestar.status_codes import HTTP_200_OK

from notifications.fournisseurs.base import Requete
from notifications.services import webhooks

NO_CSRF = {"exclude_from_csrf": True}


async def _requete(request: Request[Any, Any, Any]) -> Requete:
    return Requete(
        methode=request.method,
        chemin=request.url.path,
        query={k: v for k, v in request.query_params.items()},
        headers={k.lower(): v for k, v in request.headers.items()},
        corps=await request.body(),
    )


class WebhooksController(Controller):
    path = "/webhooks/sms/{fournisseur:str}/{territoire_id:int}"
    tags = ["Notifications"]

    @route("/accuses", http_method=["GET", "POST"], status_code=HTTP_200_OK, opt=NO_CSRF)
    async def accuses(
        self, request: Request[Any, Any, Any], fournisseur: str, territoire_id: int
    ) -> dict[str, int]:
        """Delivery reports: the message becomes "délivré" or "échec"."""
        bilan = await webhooks.accuses(territoire_id, fournisseur, await _requete(request))
        return {"traites": bilan.traites, "inconnus": bilan.inconnus}

    @route("/entrants", http_method=["GET", "POST"], status_code=HTTP_200_OK, opt=NO_CSRF)
    async def entrants(
        self, request: Request[Any, Any, Any], fournisseur: str, territoire_id: int
    ) -> dict[str, int]:
        """Inbound SMS: STOP stops SMS to that number from this territoire."""
        bilan = await webhooks.entrants(territoire_id, fournisseur, await _requete(request))
        return {"stop": bilan.traites}
