"""Administration pages of a site's queues and counters (devices: the bornes package)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from file_attente.services import gestion
from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import Conflict, Invalid
from sites.controllers.admin import read_form
from sites.services.forms import Form
from sites.services.horaires import JOURS

__all__ = ["FilesAdminController"]


def page_site(
    template: str,
    principal: Principal,
    site: dict[str, Any],
    onglet: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A page of a site's administration, with the site's tabs (`onglet` is the current one)."""
    return Template(
        template,
        context={"principal": principal, "nav": "sites", "site": site, "onglet": onglet, **context},
        status_code=status_code,
    )


def _valeurs_soumises(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {key: form.values.get(key, "") for key in form.values}
    for case in ("transfert_garde_rang", "actif"):
        values[case] = form.checked(case)
    service = str(values.get("service") or "")
    values["service"] = int(service) if service.isascii() and service.isdigit() else None
    return values


class FilesAdminController(Controller):
    path = "/admin/sites/{site_id:int}"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    # Queues ----------------------------------------------------------------------------

    @get("/files")
    async def files(self, principal: Principal, site_id: int, enregistre: bool = False) -> Template:
        """The site's queues."""
        site = await gestion.site_gere(principal, site_id)
        rows = await gestion.files(principal, site_id)
        return page_site(
            "admin/files.html", principal, site, "files", files=rows, enregistre=enregistre
        )

    async def _form(
        self,
        principal: Principal,
        site_id: int,
        *,
        file_id: int | None,
        values: dict[str, Any],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        enregistre: bool = False,
    ) -> Template:
        site = await gestion.site_gere(principal, site_id)
        base = f"/admin/sites/{site_id}/files"
        return page_site(
            "admin/file.html",
            principal,
            site,
            "files",
            status_code=status_code,
            titre=f"File {values.get('nom') or ''}" if file_id else "Nouvelle file d'attente",
            action=f"{base}/{file_id}" if file_id else f"{base}/nouvelle",
            v=values,
            errors=errors or {},
            services=await gestion.services_du_site(site_id),
            jours=JOURS,
            enregistre=enregistre,
        )

    @get("/files/nouvelle")
    async def nouvelle(self, principal: Principal, site_id: int) -> Template:
        """Empty form for a new queue."""
        values = {
            "prefixe": "",
            "priorites_consecutives_max": 2,
            "alerte_avant": 3,
            "transfert_garde_rang": True,
            "actif": True,
        }
        return await self._form(principal, site_id, file_id=None, values=values)

    @post("/files/nouvelle")
    async def creer(
        self, request: Request[Any, Any, Any], principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Create a queue."""
        form = await read_form(request)
        try:
            file_id = await gestion.enregistrer_file(principal, site_id, form)
        except Invalid as error:
            return await self._form(
                principal,
                site_id,
                file_id=None,
                values=_valeurs_soumises(form),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/sites/{site_id}/files/{file_id}?enregistre=1", status_code=303)

    @get("/files/{file_id:int}")
    async def file(
        self, principal: Principal, site_id: int, file_id: int, enregistre: bool = False
    ) -> Template:
        """Edit form of a queue."""
        row = await gestion.file(principal, site_id, file_id)
        return await self._form(
            principal,
            site_id,
            file_id=file_id,
            values=gestion.valeurs_file(row),
            enregistre=enregistre,
        )

    @post("/files/{file_id:int}")
    async def modifier(
        self, request: Request[Any, Any, Any], principal: Principal, site_id: int, file_id: int
    ) -> Template | Redirect:
        """Save a queue."""
        form = await read_form(request)
        try:
            await gestion.enregistrer_file(principal, site_id, form, file_id)
        except Invalid as error:
            return await self._form(
                principal,
                site_id,
                file_id=file_id,
                values=_valeurs_soumises(form),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/sites/{site_id}/files/{file_id}?enregistre=1", status_code=303)

    # Counters --------------------------------------------------------------------------

    async def _guichets(
        self,
        principal: Principal,
        site_id: int,
        *,
        errors: dict[str, str] | None = None,
        message: str | None = None,
        saisie: dict[str, str] | None = None,
        status_code: int = 200,
        enregistre: bool = False,
    ) -> Template:
        site = await gestion.site_gere(principal, site_id)
        return page_site(
            "admin/guichets.html",
            principal,
            site,
            "guichets",
            status_code=status_code,
            guichets=await gestion.guichets(principal, site_id),
            errors=errors or {},
            message=message,
            saisie=saisie or {},
            enregistre=enregistre,
        )

    def _retour_guichets(self, site_id: int) -> Redirect:
        return Redirect(f"/admin/sites/{site_id}/guichets?enregistre=1", status_code=303)

    @get("/guichets")
    async def guichets(
        self, principal: Principal, site_id: int, enregistre: bool = False
    ) -> Template:
        """The site's counters, a form to add one, and each one's rename and (de)activation."""
        return await self._guichets(principal, site_id, enregistre=enregistre)

    @post("/guichets")
    async def creer_guichet(
        self, request: Request[Any, Any, Any], principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Add a counter."""
        form = await read_form(request)
        try:
            await gestion.creer_guichet(principal, site_id, form)
        except Invalid as error:
            return await self._guichets(
                principal,
                site_id,
                errors={"nom": error.fields.get("nom", error.message)},
                saisie={"nom": str(form.values.get("nom") or "")},
                status_code=422,
            )
        return self._retour_guichets(site_id)

    @post("/guichets/{guichet_id:int}")
    async def renommer_guichet(
        self, request: Request[Any, Any, Any], principal: Principal, site_id: int, guichet_id: int
    ) -> Template | Redirect:
        """Rename a counter (what the screens show and the speech says)."""
        form = await read_form(request)
        try:
            await gestion.renommer_guichet(principal, site_id, guichet_id, form)
        except Invalid as error:
            champ = f"nom-{guichet_id}"
            return await self._guichets(
                principal,
                site_id,
                errors={champ: error.fields.get("nom", error.message)},
                saisie={champ: str(form.values.get("nom") or "")},
                status_code=422,
            )
        return self._retour_guichets(site_id)

    @post("/guichets/{guichet_id:int}/{etat:str}")
    async def activer_guichet(
        self, principal: Principal, site_id: int, guichet_id: int, etat: str
    ) -> Template | Redirect:
        """`activer` or `desactiver` a counter."""
        if etat not in ("activer", "desactiver"):
            raise Invalid("Action inconnue.", code="action_inconnue")
        try:
            await gestion.activer_guichet(principal, site_id, guichet_id, actif=etat == "activer")
        except Conflict as error:
            return await self._guichets(principal, site_id, message=error.message, status_code=409)
        return self._retour_guichets(site_id)
