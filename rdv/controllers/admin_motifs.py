"""Administration pages of the territoire's motifs: the list by service, and a motif's form."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import Invalid
from rdv.services import gestion_motifs
from sites.controllers.admin import read_form
from sites.services.forms import Form


def _page(template: str, principal: Principal, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template,
        context={
            "principal": principal,
            "nav": "motifs",
            "canaux": gestion_motifs.CANAUX,
            **context,
        },
        status_code=status_code,
    )


def _submitted_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {key: form.values.get(key, "") for key in form.values}
    for name in gestion_motifs.CHECKBOXES:
        values[name] = form.checked(name)
    return values


def _motif_values(motif: dict[str, Any]) -> dict[str, Any]:
    values = {**motif, "service": str(motif["service"])}
    if values["capacite"] is None:
        values["capacite"] = ""
    return values


class AdminMotifsController(Controller):
    path = "/admin/motifs"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    @get("/")
    async def motifs(self, principal: Principal) -> Template:
        """Motifs of the territoire, by service."""
        services = await gestion_motifs.list_motifs(principal)
        return _page("admin/motifs.html", principal, services=services)

    async def _form(
        self,
        principal: Principal,
        *,
        motif_id: int | None,
        values: dict[str, Any],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        enregistre: bool = False,
        a_des_rdvs: bool = False,
    ) -> Template:
        services = await gestion_motifs.territoire_services(principal)
        return _page(
            "admin/motif.html",
            principal,
            status_code=status_code,
            titre=f"Motif {values.get('nom') or ''}".strip() if motif_id else "Nouveau motif",
            action=f"/admin/motifs/{motif_id}" if motif_id else "/admin/motifs/nouveau",
            motif_id=motif_id,
            v=values,
            errors=errors or {},
            services=[(str(s["id"]), s["nom"]) for s in services],
            service_noms={str(s["id"]): s["nom"] for s in services},
            modifiable=principal.is_admin,
            enregistre=enregistre,
            a_des_rdvs=a_des_rdvs,
        )

    @get("/nouveau", opt={"roles": ("admin",)})
    async def new_motif(self, principal: Principal, service: int | None = None) -> Template:
        """Empty form for a new motif."""
        values = {**gestion_motifs.DEFAULTS, "service": str(service or ""), "capacite": ""}
        return await self._form(principal, motif_id=None, values=values)

    @post("/nouveau", opt={"roles": ("admin",)})
    async def create_motif(
        self, request: Request[Any, Any, Any], principal: Principal
    ) -> Template | Redirect:
        """Create a motif."""
        form = await read_form(request)
        try:
            motif_id = await gestion_motifs.save_motif(principal, form)
        except Invalid as error:
            return await self._form(
                principal,
                motif_id=None,
                values=_submitted_values(form),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/motifs/{motif_id}?enregistre=1", status_code=303)

    @get("/{motif_id:int}")
    async def motif(
        self, principal: Principal, motif_id: int, enregistre: bool = False
    ) -> Template:
        """One motif: a form for admins, its settings for the others."""
        motif = await gestion_motifs.motif_detail(principal, motif_id)
        return await self._form(
            principal,
            motif_id=motif_id,
            values=_motif_values(motif),
            enregistre=enregistre,
            a_des_rdvs=motif["a_des_rdvs"],
        )

    @post("/{motif_id:int}", opt={"roles": ("admin",)})
    async def update_motif(
        self, request: Request[Any, Any, Any], principal: Principal, motif_id: int
    ) -> Template | Redirect:
        """Save a motif."""
        form = await read_form(request)
        try:
            await gestion_motifs.save_motif(principal, form, motif_id)
        except Invalid as error:
            motif = await gestion_motifs.motif_detail(principal, motif_id)
            return await self._form(
                principal,
                motif_id=motif_id,
                values=_submitted_values(form),
                errors=error.fields,
                status_code=422,
                a_des_rdvs=motif["a_des_rdvs"],
            )
        return Redirect(f"/admin/motifs/{motif_id}?enregistre=1", status_code=303)

    @post("/{motif_id:int}/desactiver", opt={"roles": ("admin",)})
    async def deactivate_motif(self, principal: Principal, motif_id: int) -> Redirect:
        """Stop offering a motif; it is kept with its rdvs."""
        await gestion_motifs.deactivate_motif(principal, motif_id)
        return Redirect(f"/admin/motifs/{motif_id}?enregistre=1", status_code=303)
