"""The managers' page of a site's kiosks and screens: pair one with the code it shows, see
whether each is online, revoke one."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from bornes.services import appareils
from bornes.tables import KindAppareil
from file_attente.services import gestion
from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import Invalid, NotFound
from rdv.formats import date_heure
from sites.controllers.admin import read_form

__all__ = ["KINDS", "AppareilsPagesController"]

KINDS = {"borne": "Borne (prise de tickets)", "ecran": "Écran de salle d'attente"}


class AppareilsPagesController(Controller):
    """A site's managers pair its kiosks and screens, see whether they are online, revoke them."""

    path = "/admin/sites/{site_id:int}/appareils"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    async def _page(
        self,
        principal: Principal,
        site_id: int,
        *,
        errors: dict[str, str] | None = None,
        saisie: dict[str, str] | None = None,
        status_code: int = 200,
        fait: str = "",
    ) -> Template:
        site = await gestion.site_gere(principal, site_id)
        rows = await appareils.lister(principal, site_id)
        for row in rows:
            contact = row["dernier_contact_at"]
            row["contact"] = date_heure(contact, site["fuseau"], annee=False) if contact else ""
        return Template(
            "admin/appareils.html",
            context={
                "principal": principal,
                "nav": "sites",
                "site": site,
                "onglet": "appareils",
                "appareils": rows,
                "kinds": KINDS,
                "errors": errors or {},
                "saisie": saisie or {"kind": "borne"},
                "fait": fait,
            },
            status_code=status_code,
        )

    @get("/")
    async def liste(self, principal: Principal, site_id: int, fait: str = "") -> Template:
        """The site's devices, their state, the pairing form."""
        return await self._page(principal, site_id, fait=fait)

    @post("/")
    async def appairer(
        self, request: Request[Any, Any, Any], principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Bind the device showing this code to the site."""
        form = await read_form(request)
        saisie = {k: str(form.values.get(k) or "") for k in ("code", "nom", "kind")}
        try:
            if saisie["kind"] not in KINDS:
                raise Invalid(fields={"kind": "Choisissez borne ou écran."})
            await appareils.appairer(
                principal, site_id, saisie["code"], saisie["nom"], KindAppareil(saisie["kind"])
            )
        except Invalid as error:
            return await self._page(
                principal, site_id, errors=error.fields, saisie=saisie, status_code=422
            )
        return Redirect(f"/admin/sites/{site_id}/appareils?fait=appaire", status_code=303)

    @post("/{appareil_id:int}/revoquer")
    async def revoquer(self, principal: Principal, site_id: int, appareil_id: int) -> Redirect:
        """Its token stops working at once; its pages say so and its sockets close."""
        ids = {row["id"] for row in await appareils.lister(principal, site_id)}
        if appareil_id not in ids:
            raise NotFound("Cet appareil n'existe pas.", code="appareil_inconnu")
        await appareils.revoquer(principal, appareil_id)
        return Redirect(f"/admin/sites/{site_id}/appareils?fait=revoque", status_code=303)
