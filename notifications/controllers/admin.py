"""Admin pages of the notifications: the territoire's settings, the messages and their counts."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from notifications.services import reglages, sortie, suivi
from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import Invalid

FOURNISSEURS_SMS = [
    ("log", "Aucun envoi (journal seulement)"),
    ("smsfactor", "SMS Factor"),
    ("brevo", "Brevo"),
]
FOURNISSEURS_EMAIL = [("log", "Aucun envoi (journal seulement)"), ("smtp", "Serveur SMTP")]


def _page(template: str, principal: Principal, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template,
        context={"principal": principal, "nav": "messages", **context},
        status_code=status_code,
    )


class NotificationsAdminController(Controller):
    path = "/admin"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False
    opt = {"roles": ("admin",)}

    @get("/messages")
    async def messages(
        self, principal: Principal, rdv: int | None = None, usager: int | None = None
    ) -> Template:
        """Counts per day and month; with `rdv` or `usager`, every message about them."""
        liste = await suivi.messages(principal, rdv=rdv, usager=usager) if rdv or usager else []
        return _page(
            "notifications/messages.html",
            principal,
            bilan=await suivi.bilan(principal),
            liste=liste,
            filtre={"rdv": rdv, "usager": usager},
            libelles=suivi.LIBELLES,
        )

    @get("/notifications")
    async def reglages(self, principal: Principal, enregistre: bool = False) -> Template:
        p = await sortie.parametres(principal.territoire_id)
        return await self._formulaire(principal, reglages.valeurs(p), enregistre=enregistre)

    @post("/notifications/motifs")
    async def enregistrer_motifs(
        self, principal: Principal, request: Request[Any, Any, Any]
    ) -> Template | Redirect:
        donnees = {k: str(v) for k, v in (await request.form()).items()}
        try:
            await reglages.enregistrer_motifs(principal, donnees)
        except Invalid as error:
            p = await sortie.parametres(principal.territoire_id)
            return await self._formulaire(
                principal,
                reglages.valeurs(p),
                errors_motifs=error.fields,
                saisie_motifs=donnees,
                status_code=422,
            )
        return Redirect("/admin/notifications?enregistre=1#rappels-motifs", status_code=303)

    @post("/notifications")
    async def enregistrer(
        self, principal: Principal, request: Request[Any, Any, Any]
    ) -> Template | Redirect:
        donnees = {k: str(v) for k, v in (await request.form()).items()}
        try:
            await reglages.enregistrer(principal, donnees)
        except Invalid as error:
            return await self._formulaire(principal, donnees, errors=error.fields, status_code=422)
        return Redirect("/admin/notifications?enregistre=1", status_code=303)

    async def _formulaire(
        self,
        principal: Principal,
        valeurs: dict[str, Any],
        *,
        errors: dict[str, str] | None = None,
        errors_motifs: dict[str, str] | None = None,
        saisie_motifs: dict[str, str] | None = None,
        enregistre: bool = False,
        status_code: int = 200,
    ) -> Template:
        motifs = await reglages.motifs(principal)
        for motif in motifs:
            if saisie_motifs is not None:
                motif["rappels"] = saisie_motifs.get(f"rappels_{motif['id']}", "")
        return _page(
            "notifications/reglages.html",
            principal,
            status_code=status_code,
            v=valeurs,
            errors=errors or {},
            enregistre=enregistre,
            fournisseurs_sms=FOURNISSEURS_SMS,
            fournisseurs_email=FOURNISSEURS_EMAIL,
            motifs=motifs,
            errors_motifs=errors_motifs or {},
        )
