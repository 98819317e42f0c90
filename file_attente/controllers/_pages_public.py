"""The public pages of the queues, without an account: a ticket's own page (live, and without
JavaScript), and joining a site's queue from home with a mobile number."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from file_attente.services import etat, tickets
from plateforme.errors import Conflict, DomainError, Invalid
from plateforme.telephones import mobile_e164

__all__ = ["TicketPagesController"]

# The ticket's address is its only key: kept out of shared caches.
PRIVE = {"Cache-Control": "no-store"}


def vue(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context=context, status_code=status_code, headers=PRIVE)


class TicketPagesController(Controller):
    include_in_schema = False

    @get("/ticket/{jeton:str}")
    async def ticket(self, jeton: str, fait: str = "") -> Template:
        """Where the ticket stands: its place, the estimated wait, the counter once called."""
        return vue(
            "ticket/ticket.html", ticket=await tickets.etat_ticket(jeton), jeton=jeton, fait=fait
        )

    @post("/ticket/{jeton:str}/annuler")
    async def annuler(self, jeton: str) -> Template | Redirect:
        """ "Je ne viens plus": the place goes to the next person."""
        try:
            await tickets.annuler_par_jeton(jeton)
        except Conflict as error:
            return vue(
                "ticket/ticket.html",
                status_code=error.status_code,
                ticket=await tickets.etat_ticket(jeton),
                jeton=jeton,
                erreur=error.message,
            )
        return Redirect(f"/ticket/{jeton}?fait=annule", status_code=303)

    async def _rejoindre(
        self,
        site_id: int,
        *,
        valeurs: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        etat_site = await etat.etat_public(site_id)
        ouvertes = [f for f in etat_site["files"] if f["ouverte"]]
        valeurs = valeurs or {}
        if not valeurs.get("file") and len(ouvertes) == 1:
            valeurs["file"] = str(ouvertes[0]["id"])
        return vue(
            "ticket/rejoindre.html",
            status_code=status_code,
            etat=etat_site,
            ouvertes=ouvertes,
            fermees=[f for f in etat_site["files"] if not f["ouverte"]],
            v=valeurs,
            errors=errors or {},
        )

    @get("/sites/{site_id:int}/file")
    async def rejoindre(self, site_id: int) -> Template:
        """The site's open queues, and the form to join one from home."""
        return await self._rejoindre(site_id)

    @post("/sites/{site_id:int}/file")
    async def prendre(self, request: Request[Any, Any, Any], site_id: int) -> Template | Redirect:
        """Take a ticket from home; its page follows the place in the queue."""
        form = await request.form()
        valeurs = {k: str(form.get(k) or "").strip()[:40] for k in ("file", "telephone")}
        ouvertes = {
            str(f["id"]) for f in (await etat.etat_public(site_id))["files"] if f["ouverte"]
        }
        # Every mistake of the form at once: the queue, then the number.
        errors: dict[str, str] = {}
        if valeurs["file"] not in ouvertes:
            errors["file"] = "Choisissez une file d'attente ouverte."
        try:
            mobile_e164(valeurs["telephone"], field="telephone")
        except Invalid as error:
            errors.update(error.fields)
        if errors:
            return await self._rejoindre(site_id, valeurs=valeurs, errors=errors, status_code=422)
        try:
            emis = await tickets.emettre_a_distance(
                int(valeurs["file"]),
                valeurs["telephone"],
                ip=request.client.host if request.client else "inconnue",
                site_id=site_id,
            )
        except DomainError as error:
            message = next(iter(error.fields.values()), error.message)
            champ = next(iter(error.fields), "file")
            return await self._rejoindre(
                site_id,
                valeurs=valeurs,
                errors={champ: message},
                status_code=error.status_code,
            )
        return Redirect(f"/ticket/{emis.jeton}", status_code=303)
