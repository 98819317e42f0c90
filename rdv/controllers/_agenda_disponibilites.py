"""The agents' plages d'ouverture and absences pages, under /agenda."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import Invalid
from rdv.controllers.agenda import lien, page_agenda, param_agent
from rdv.services import agenda
from sites.controllers.admin import read_form


class DisponibilitesController(Controller):
    path = "/agenda"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    # Plages d'ouverture ---------------------------------------------------------------

    @get("/plages")
    async def plages(
        self, principal: Principal, agent: int | None = None, enregistre: bool = False
    ) -> Template:
        """The agent's plages d'ouverture."""
        cible, rows = await agenda.plages(principal, agent)
        return page_agenda(
            "plages.html",
            principal,
            "plages",
            cible=cible,
            agent_param=param_agent(cible),
            plages=rows,
            enregistre=enregistre,
        )

    async def _plage_form(
        self,
        principal: Principal,
        cible: agenda.AgentAgenda,
        *,
        plage_id: int | None,
        v: dict[str, Any],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        enregistre: bool = False,
    ) -> Template:
        motifs, sites = await agenda.motifs_et_sites(principal, cible)
        action = (
            f"/agenda/plages/{plage_id}"
            if plage_id
            else lien("/agenda/plages/nouvelle", agent=param_agent(cible))
        )
        return page_agenda(
            "plage.html",
            principal,
            "plages",
            status_code=status_code,
            cible=cible,
            agent_param=param_agent(cible),
            plage_id=plage_id,
            action=action,
            motifs=[(m["id"], agenda.libelle_motif(m)) for m in motifs],
            sites=[(str(s["id"]), s["nom"]) for s in sites],
            jours=agenda.JOURS_RRULE,
            frequences=agenda.FREQUENCES,
            v=v,
            errors=errors or {},
            enregistre=enregistre,
        )

    @staticmethod
    def _plage_soumise(form: Any, actuelle: dict[str, Any] | None = None) -> dict[str, Any]:
        v: dict[str, Any] = dict(form.values)
        v["motifs"] = form.ids_soumis("motifs")
        v["jours"] = set(form.lists.get("jours", []))
        if actuelle:
            v["regle_actuelle"] = actuelle.get("regle_actuelle")
            v["regle_libelle"] = actuelle.get("regle_libelle")
        return v

    @get("/plages/nouvelle")
    async def nouvelle_plage(self, principal: Principal, agent: int | None = None) -> Template:
        """Empty form for a new plage d'ouverture."""
        cible = await agenda.agent_cible(principal, agent)
        v = {"frequence": "1", "jours": set(), "motifs": set(), "premier_jour": ""}
        return await self._plage_form(principal, cible, plage_id=None, v=v)

    @post("/plages/nouvelle")
    async def creer_plage(
        self, request: Request[Any, Any, Any], principal: Principal, agent: int | None = None
    ) -> Template | Redirect:
        """Create a plage d'ouverture."""
        cible = await agenda.agent_cible(principal, agent)
        form = await read_form(request)
        try:
            plage_id = await agenda.enregistrer_plage(principal, cible, form)
        except Invalid as error:
            return await self._plage_form(
                principal,
                cible,
                plage_id=None,
                v=self._plage_soumise(form),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/agenda/plages/{plage_id}?enregistre=1", status_code=303)

    @get("/plages/{plage_id:int}")
    async def plage(
        self, principal: Principal, plage_id: int, enregistre: bool = False
    ) -> Template:
        """Edit form of a plage d'ouverture."""
        cible, v = await agenda.plage(principal, plage_id)
        return await self._plage_form(
            principal, cible, plage_id=plage_id, v=v, enregistre=enregistre
        )

    @post("/plages/{plage_id:int}")
    async def modifier_plage(
        self, request: Request[Any, Any, Any], principal: Principal, plage_id: int
    ) -> Template | Redirect:
        """Save a plage d'ouverture."""
        cible, actuelle = await agenda.plage(principal, plage_id)
        form = await read_form(request)
        try:
            await agenda.enregistrer_plage(principal, cible, form, plage_id)
        except Invalid as error:
            return await self._plage_form(
                principal,
                cible,
                plage_id=plage_id,
                v=self._plage_soumise(form, actuelle),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/agenda/plages/{plage_id}?enregistre=1", status_code=303)

    @post("/plages/{plage_id:int}/supprimer")
    async def supprimer_plage(self, principal: Principal, plage_id: int) -> Redirect:
        """Delete a plage d'ouverture; the rdvs already booked stay."""
        agent_id = await agenda.supprimer_plage(principal, plage_id)
        agent_param = None if agent_id == principal.agent_id else agent_id
        return Redirect(lien("/agenda/plages", agent=agent_param, enregistre=1), status_code=303)

    # Absences -------------------------------------------------------------------------

    @get("/absences")
    async def absences(
        self, principal: Principal, agent: int | None = None, enregistre: bool = False
    ) -> Template:
        """The agent's absences to come, and the recurring ones."""
        cible, rows = await agenda.absences(principal, agent)
        return page_agenda(
            "absences.html",
            principal,
            "absences",
            cible=cible,
            agent_param=param_agent(cible),
            absences=rows,
            enregistre=enregistre,
        )

    def _absence_form(
        self,
        principal: Principal,
        cible: agenda.AgentAgenda,
        *,
        v: dict[str, Any],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page_agenda(
            "absence.html",
            principal,
            "absences",
            status_code=status_code,
            cible=cible,
            agent_param=param_agent(cible),
            action=lien("/agenda/absences/nouvelle", agent=param_agent(cible)),
            v=v,
            errors=errors or {},
        )

    @get("/absences/nouvelle")
    async def nouvelle_absence(self, principal: Principal, agent: int | None = None) -> Template:
        """Empty form for a new absence."""
        cible = await agenda.agent_cible(principal, agent)
        return self._absence_form(principal, cible, v={})

    @post("/absences/nouvelle")
    async def creer_absence(
        self, request: Request[Any, Any, Any], principal: Principal, agent: int | None = None
    ) -> Template | Redirect:
        """Create an absence."""
        cible = await agenda.agent_cible(principal, agent)
        form = await read_form(request)
        try:
            await agenda.enregistrer_absence(principal, cible, form)
        except Invalid as error:
            v = dict(form.values)
            v["hebdomadaire"] = form.checked("hebdomadaire")
            return self._absence_form(principal, cible, v=v, errors=error.fields, status_code=422)
        return Redirect(
            lien("/agenda/absences", agent=param_agent(cible), enregistre=1), status_code=303
        )

    @post("/absences/{absence_id:int}/supprimer")
    async def supprimer_absence(self, principal: Principal, absence_id: int) -> Redirect:
        """Delete an absence."""
        agent_id = await agenda.supprimer_absence(principal, absence_id)
        agent_param = None if agent_id == principal.agent_id else agent_id
        return Redirect(lien("/agenda/absences", agent=agent_param, enregistre=1), status_code=303)
