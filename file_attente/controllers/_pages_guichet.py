"""The counter console: open a counter for some queues, call and serve tickets, check people
in and give tickets at the reception desk. Forms work without JavaScript (POST, then back to
the console); its script keeps the waiting list in step with every console of the site."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from file_attente.services import arrivee, etat, gestion, guichets, lieux, tickets
from file_attente.tables import OrigineTicket, Priorite, StatutTicket
from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import DomainError, NotFound
from rdv.formats import heure
from sites.controllers.admin import read_form

__all__ = ["ConsoleController"]

RequestT = Request[Any, Any, Any]

ORIGINES = {
    OrigineTicket.borne: "Borne",
    OrigineTicket.accueil: "Accueil",
    OrigineTicket.rdv: "Rendez-vous",
    OrigineTicket.distance: "À distance",
}
PRIORITES = {Priorite.normale: "", Priorite.carte: "Carte de priorité", Priorite.rdv: "Rendez-vous"}
ACTIONS = ("appeler", "rappeler", "absent", "commencer", "terminer", "transferer", "annuler")
# What the console says after each action, once back on it.
FAITS = {
    "ouvert": "Guichet ouvert.",
    "ferme": "Guichet fermé.",
    "appeler": "Ticket {ticket} appelé.",
    "rappeler": "Ticket {ticket} rappelé.",
    "absent": "Ticket {ticket} marqué absent.",
    "commencer": "Ticket {ticket} : réception commencée.",
    "terminer": "Ticket {ticket} terminé.",
    "transferer": "Ticket {ticket} transféré.",
    "annuler": "Ticket {ticket} annulé.",
    "accueil": "Ticket {ticket} donné : dites ce numéro à la personne.",
    "arrivee": "Arrivée enregistrée (rendez-vous de {heure}), ticket {ticket}.",
    "arrivee_sans_ticket": "Arrivée enregistrée (rendez-vous de {heure}) : "
    "pas de file pour ce service, la personne attend qu'on vienne la chercher.",
}
_CODE = re.compile(r"[A-Z]{1,3}\d{3,5}")
_HEURE = re.compile(r"\d{2}:\d{2}")


def message_fait(fait: str, ticket: str, heure_rdv: str) -> str | None:
    """Only known messages, with values of the expected shape: the query string is not ours."""
    if fait not in FAITS:
        return None
    ticket = ticket if _CODE.fullmatch(ticket) else ""
    heure_rdv = heure_rdv if _HEURE.fullmatch(heure_rdv) else ""
    if ("{ticket}" in FAITS[fait] and not ticket) or ("{heure}" in FAITS[fait] and not heure_rdv):
        return None
    return FAITS[fait].format(ticket=ticket, heure=heure_rdv)


def retour(site_id: int, fait: str, **valeurs: str) -> Redirect:
    query = urlencode({"fait": fait, **valeurs})
    return Redirect(f"/guichet/{site_id}?{query}", status_code=303)


def _id(valeur: Any) -> int | None:
    texte = str(valeur or "")
    return int(texte) if texte.isascii() and texte.isdigit() and len(texte) < 18 else None


async def console(principal: Principal, site_id: int) -> dict[str, Any]:
    """What the console shows, for an agent who works at the site."""
    site = await lieux.site_info(site_id)
    guichets.verifier_site(principal, site)
    donnees = await etat.etat_console(site_id)
    files = {f["id"]: f for f in donnees["files"]}
    mien = next((g for g in donnees["guichets"] if g["agent_id"] == principal.agent_id), None)
    mes_files = set(mien["files"] or []) if mien else set()
    for ticket in donnees["tickets"]:
        ticket["file_nom"] = files.get(ticket["file"], {}).get("nom", "")
        ticket["origine_libelle"] = ORIGINES.get(ticket["origine"], ticket["origine"])
        ticket["priorite_libelle"] = PRIORITES.get(ticket["priorite"], "")
        debut = ticket["rdv_debut"]
        ticket["rdv_heure"] = heure(datetime.fromisoformat(debut), site.fuseau) if debut else ""
        ticket["pour_moi"] = ticket["file"] in mes_files
    attente = [t for t in donnees["tickets"] if t["statut"] == StatutTicket.en_attente]
    par_guichet = {
        t["guichet"]: t for t in donnees["tickets"] if t["statut"] != StatutTicket.en_attente
    }
    courant = par_guichet.get(mien["id"]) if mien else None
    return {
        "site": site,
        "files": donnees["files"],
        "guichets": donnees["guichets"],
        "mien": mien,
        "mes_files": [files[f] for f in sorted(mes_files) if f in files],
        "courant": courant,
        "attente": attente,
        "pour_moi": sum(1 for t in attente if t["pour_moi"]),
        "par_guichet": par_guichet,
        "statuts": tickets.STATUTS_LIBELLES,
    }


class ConsoleController(Controller):
    path = "/guichet"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    async def _page(
        self,
        principal: Principal,
        site_id: int,
        *,
        fait: str | None = None,
        erreur: str | None = None,
        cible: str = "guichet",
        saisie: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            "guichet/console.html",
            context={
                "principal": principal,
                "nav": "guichet",
                **await console(principal, site_id),
                "fait": fait,
                "erreur": erreur,
                "cible": cible,
                "saisie": saisie or {},
            },
            status_code=status_code,
            headers={"Cache-Control": "no-store"},
        )

    async def _echec(
        self,
        principal: Principal,
        site_id: int,
        error: DomainError,
        cible: str = "guichet",
        saisie: dict[str, str] | None = None,
    ) -> Template:
        message = next(iter(error.fields.values()), error.message)
        return await self._page(
            principal,
            site_id,
            erreur=message,
            cible=cible,
            saisie=saisie,
            status_code=error.status_code,
        )

    @get("/")
    async def choix(self, principal: Principal) -> Template | Redirect:
        """The sites where the agent may open a counter; straight to it when there is one."""
        sites = await gestion.sites_de_console(principal)
        if len(sites) == 1:
            return Redirect(f"/guichet/{sites[0]['id']}", status_code=303)
        return Template(
            "guichet/choix.html",
            context={"principal": principal, "nav": "guichet", "sites": sites},
        )

    @get("/{site_id:int}")
    async def page(
        self,
        principal: Principal,
        site_id: int,
        fait: str = "",
        ticket: str = "",
        heure_rdv: str = "",
    ) -> Template:
        """The console of a site: my counter, the waiting tickets, the reception desk."""
        return await self._page(principal, site_id, fait=message_fait(fait, ticket, heure_rdv))

    @get("/{site_id:int}/attente")
    async def attente(self, principal: Principal, site_id: int) -> Template:
        """The waiting list and the counters, redrawn by the console's script on each event."""
        return Template(
            "guichet/_attente.html",
            context={"principal": principal, **await console(principal, site_id)},
            headers={"Cache-Control": "no-store"},
        )

    @post("/{site_id:int}/ouvrir")
    async def ouvrir(
        self, request: RequestT, principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Sit at a counter of the site for some of its queues."""
        form = await read_form(request)
        guichet_id = _id(form.values.get("guichet"))
        try:
            if guichet_id is None:
                raise NotFound("Choisissez un guichet de ce site.", code="guichet_inconnu")
            await gestion.guichet_du_site(site_id, guichet_id)
            await guichets.ouvrir(principal, guichet_id, form.ids_soumis("files"))
        except DomainError as error:
            return await self._echec(principal, site_id, error)
        return retour(site_id, "ouvert")

    async def _mon_guichet(self, principal: Principal, site_id: int) -> int:
        mien = await gestion.guichet_de(principal, site_id)
        if mien is None:
            raise NotFound(
                "Ouvrez d'abord un guichet à votre nom dans ce site.", code="guichet_non_ouvert"
            )
        return int(mien["id"])

    @post("/{site_id:int}/fermer")
    async def fermer(self, principal: Principal, site_id: int) -> Template | Redirect:
        """Leave the counter (once its current ticket is ended)."""
        try:
            await guichets.fermer(principal, await self._mon_guichet(principal, site_id))
        except DomainError as error:
            return await self._echec(principal, site_id, error)
        return retour(site_id, "ferme")

    @post("/{site_id:int}/suivant")
    async def suivant(self, principal: Principal, site_id: int) -> Template | Redirect:
        """Call the next ticket of my queues under their call policy."""
        try:
            action = await guichets.appeler_suivant(
                principal, await self._mon_guichet(principal, site_id)
            )
        except DomainError as error:
            return await self._echec(principal, site_id, error)
        return retour(site_id, "appeler", ticket=action.code)

    @post("/{site_id:int}/tickets/{ticket_id:int}/{action:str}")
    async def agir(
        self, request: RequestT, principal: Principal, site_id: int, ticket_id: int, action: str
    ) -> Template | Redirect:
        """Call this ticket, recall it, mark it absent, start, end, transfer or cancel it."""
        if action not in ACTIONS:
            raise NotFound("Action inconnue.", code="action_inconnue")
        try:
            if action == "annuler":
                fait = await guichets.annuler(principal, site_id, ticket_id)
            else:
                guichet_id = await self._mon_guichet(principal, site_id)
                if action == "appeler":
                    fait = await guichets.appeler(principal, guichet_id, ticket_id)
                elif action == "transferer":
                    form = await read_form(request)
                    cible = _id(form.values.get("file"))
                    if cible is None:
                        raise NotFound("Choisissez la file où envoyer le ticket.", code="file")
                    fait = await guichets.transferer(principal, guichet_id, ticket_id, cible)
                else:
                    fait = await guichets.agir(principal, guichet_id, ticket_id, action)
        except DomainError as error:
            return await self._echec(principal, site_id, error)
        return retour(site_id, action, ticket=fait.code)

    @post("/{site_id:int}/arrivees")
    async def arrivee(
        self, request: RequestT, principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Check someone in for today's rdv with the code of their confirmation."""
        form = await read_form(request)
        code = str(form.values.get("code") or "")[:20]
        try:
            site = await lieux.site_info(site_id)
            guichets.verifier_site(principal, site)
            resultat = await arrivee.enregistrer(site_id, code, agent_id=principal.agent_id)
        except DomainError as error:
            return await self._echec(principal, site_id, error, "arrivee", {"code": code})
        heure_rdv = heure(resultat.rdv_debut, site.fuseau)
        if resultat.ticket is None:
            return retour(site_id, "arrivee_sans_ticket", heure_rdv=heure_rdv)
        return retour(site_id, "arrivee", ticket=resultat.ticket.code, heure_rdv=heure_rdv)

    @post("/{site_id:int}/accueil")
    async def accueil(
        self, request: RequestT, principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Give a ticket at the reception desk, with priority for a priority card."""
        form = await read_form(request)
        file_id = _id(form.values.get("file"))
        try:
            site = await lieux.site_info(site_id)
            guichets.verifier_site(principal, site)
            if file_id is None:
                raise NotFound("Choisissez une file d'attente.", code="file_inconnue")
            emis = await tickets.emettre(
                file_id,
                site_id=site_id,
                origine=OrigineTicket.accueil,
                priorite=Priorite.carte if form.checked("carte") else Priorite.normale,
                agent_id=principal.agent_id,
            )
        except DomainError as error:
            return await self._echec(principal, site_id, error, "accueil")
        return retour(site_id, "accueil", ticket=emis.code)
