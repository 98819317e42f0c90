"""The agents' agenda pages: day, week, a site's day, statuses and booking on the phone
(plages and absences: `_agenda_disponibilites`). Server-rendered, usable without JavaScript."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import Conflict, Invalid
from rdv.services import agenda
from rdv.services.cycle import LIBELLES
from sites.controllers.admin import read_form

LIBELLES_TRANSITIONS = {
    "vu": "Marquer vu",
    "absent": "Marquer absent",
    "a_venir": "Remettre à venir",
    "annule": "Annuler",
}


def lien(path: str, **params: Any) -> str:
    """A URL of these pages; parameters that are None or empty are left out."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def page_agenda(
    template: str,
    principal: Principal,
    onglet: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A page of the agenda, with its menu (`onglet` is the current entry)."""
    return Template(
        f"agenda/{template}",
        context={
            "principal": principal,
            "nav": "agenda",
            "onglet": onglet,
            "lien": lien,
            "transitions": LIBELLES_TRANSITIONS,
            "libelles_statut": LIBELLES,
            "agent_param": None,
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def param_agent(cible: agenda.AgentAgenda) -> int | None:
    """The `agent` parameter to carry in links: none for one's own agenda."""
    return None if cible.soi_meme else cible.id


def _retour(raw: Any, defaut: str) -> str:
    """Back to an agenda page only: never another site ("//evil.example")."""
    target = str(raw or "")
    if target.startswith("/agenda") and "//" not in target and "\\" not in target:
        return target
    return defaut


def _avec_enregistre(target: str, ancre: str = "") -> str:
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "enregistre"]
    query.append(("enregistre", "1"))
    return urlunsplit(("", "", parts.path, urlencode(query), ancre))


class AgendaController(Controller):
    path = "/agenda"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    async def _choix_navigation(self, principal: Principal) -> dict[str, Any]:
        return {
            "agents_visibles": await agenda.agents_visibles(principal),
            "sites_visibles": await agenda.sites_visibles(principal),
        }

    # Day, week, site -----------------------------------------------------------

    @get("/")
    async def jour(
        self,
        principal: Principal,
        jour: date | None = None,
        agent: int | None = None,
        enregistre: bool = False,
    ) -> Template:
        """An agent's rdvs of one day (today in the territoire's zone by default)."""
        journee = await agenda.journee(principal, agent, jour)
        return page_agenda(
            "jour.html",
            principal,
            "jour",
            j=journee,
            cible=journee.agent,
            agent_param=param_agent(journee.agent),
            veille=journee.jour - timedelta(days=1),
            lendemain=journee.jour + timedelta(days=1),
            retour=lien("/agenda", jour=journee.jour, agent=param_agent(journee.agent)),
            enregistre=enregistre,
            **await self._choix_navigation(principal),
        )

    @get("/semaine")
    async def semaine(
        self,
        principal: Principal,
        du: date | None = None,
        agent: int | None = None,
        enregistre: bool = False,
    ) -> Template:
        """An agent's rdvs of one week, Monday to Sunday."""
        s = await agenda.semaine(principal, agent, du)
        return page_agenda(
            "semaine.html",
            principal,
            "semaine",
            s=s,
            cible=s.agent,
            agent_param=param_agent(s.agent),
            precedente=s.lundi - timedelta(days=7),
            suivante=s.lundi + timedelta(days=7),
            dimanche=s.lundi + timedelta(days=6),
            retour=lien("/agenda/semaine", du=s.lundi, agent=param_agent(s.agent)),
            enregistre=enregistre,
            date_longue=agenda.date_longue,
        )

    @get("/site")
    async def choisir_site(self, site: int, jour: date | None = None) -> Redirect:
        """The site picker's answer, without JavaScript: go to that site's day."""
        return Redirect(lien(f"/agenda/site/{site}", jour=jour), status_code=303)

    @get("/site/{site_id:int}")
    async def site(
        self,
        principal: Principal,
        site_id: int,
        jour: date | None = None,
        enregistre: bool = False,
    ) -> Template:
        """Every agenda of a site for one day, to read or print (responsables and admins)."""
        j = await agenda.journee_site(principal, site_id, jour)
        return page_agenda(
            "site.html",
            principal,
            "site",
            j=j,
            veille=j.jour - timedelta(days=1),
            lendemain=j.jour + timedelta(days=1),
            retour=lien(f"/agenda/site/{site_id}", jour=j.jour),
            enregistre=enregistre,
        )

    # Statuses --------------------------------------------------------------------

    @post("/rdv/{rdv_id:int}/statut")
    async def statut(
        self, request: Request[Any, Any, Any], principal: Principal, rdv_id: int
    ) -> Redirect:
        """Mark an rdv vu, absent or annulé (or back to à venir); 409 when not allowed now."""
        form = await read_form(request)
        jour = await agenda.changer_statut(
            principal,
            rdv_id,
            form.text("statut"),
            motif_annulation=form.text("motif", max_length=200),
        )
        retour = _retour(form.values.get("retour"), lien("/agenda", jour=jour))
        return Redirect(_avec_enregistre(retour, f"rdv-{rdv_id}"), status_code=303)

    @get("/rdv/{rdv_id:int}/annuler")
    async def annuler(
        self, principal: Principal, rdv_id: int, retour: str | None = None
    ) -> Template:
        """Confirmation before cancelling an rdv, which cannot be undone."""
        rdv = await agenda.rdv_agenda(principal, rdv_id)
        return page_agenda(
            "annuler.html",
            principal,
            "jour",
            r=rdv,
            retour=_retour(retour, lien("/agenda", jour=rdv.debut.date())),
            date_longue=agenda.date_longue,
        )

    @post("/participants/{participant_id:int}/statut")
    async def statut_participant(
        self, request: Request[Any, Any, Any], principal: Principal, participant_id: int
    ) -> Redirect:
        """Mark one participant of a collective session vu or absent (or back to à venir),
        or take them off it (annulé); 409 when not allowed now."""
        form = await read_form(request)
        _, jour = await agenda.pointer_participant(principal, participant_id, form.text("statut"))
        retour = _retour(form.values.get("retour"), lien("/agenda", jour=jour))
        return Redirect(_avec_enregistre(retour, f"participant-{participant_id}"), status_code=303)

    @get("/participants/{participant_id:int}/annuler")
    async def desinscrire(
        self, principal: Principal, participant_id: int, retour: str | None = None
    ) -> Template:
        """Confirmation before taking someone off a collective session."""
        rdv, usager = await agenda.participant_a_desinscrire(principal, participant_id)
        return page_agenda(
            "desinscrire.html",
            principal,
            "jour",
            r=rdv,
            u=usager,
            retour=_retour(retour, lien("/agenda", jour=rdv.debut.date())),
            date_longue=agenda.date_longue,
        )

    # Booking on the phone ----------------------------------------------------------

    async def _reservation(
        self,
        principal: Principal,
        cible: agenda.AgentAgenda,
        *,
        v: dict[str, Any],
        q: str = "",
        errors: dict[str, str] | None = None,
        conflit: str = "",
        status_code: int = 200,
    ) -> Template:
        motifs, sites = await agenda.motifs_et_sites(principal, cible)
        return page_agenda(
            "reservation.html",
            principal,
            "reservation",
            status_code=status_code,
            cible=cible,
            agent_param=param_agent(cible),
            q=q,
            usagers=await agenda.chercher_usagers(principal, q) if q else [],
            motifs=[(str(m["id"]), agenda.libelle_motif(m)) for m in motifs],
            sites=[(str(s["id"]), s["nom"]) for s in sites],
            v=v,
            errors=errors or {},
            conflit=conflit,
        )

    @get("/rdv/nouveau")
    async def nouveau_rdv(
        self,
        principal: Principal,
        agent: int | None = None,
        q: str = "",
        usager: int | None = None,
        jour: date | None = None,
    ) -> Template:
        """Book for someone on the phone: find the usager, or type a new one."""
        cible = await agenda.agent_cible(principal, agent)
        v: dict[str, Any] = {"jour": jour.isoformat() if jour else ""}
        if usager is not None:
            trouve = await agenda.usager_du_territoire(principal, usager)
            v.update(
                prenom=trouve["prenom"],
                nom=trouve["nom"],
                telephone=trouve["telephone_affiche"],
                email=trouve["email"],
                choisi=trouve,
            )
        return await self._reservation(principal, cible, v=v, q=q[:100])

    @post("/rdv/nouveau")
    async def reserver(
        self, request: Request[Any, Any, Any], principal: Principal, agent: int | None = None
    ) -> Template | Redirect:
        """Book at any time of the agent's day, even outside the créneaux."""
        cible = await agenda.agent_cible(principal, agent)
        form = await read_form(request)
        try:
            rdv = await agenda.reserver_par_telephone(principal, cible, form)
        except Invalid as error:
            return await self._reservation(
                principal, cible, v=dict(form.values), errors=error.fields, status_code=422
            )
        except Conflict as error:
            # The agent is busy then, the session is full, or the person is in it already.
            return await self._reservation(
                principal, cible, v=dict(form.values), conflit=error.message, status_code=409
            )
        cible_param = param_agent(cible)
        return Redirect(
            _avec_enregistre(lien("/agenda", jour=rdv.jour, agent=cible_param), f"rdv-{rdv.id}"),
            status_code=303,
        )
