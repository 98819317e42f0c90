"""Administration pages of a territoire: sites, hours, closures, services, agents."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import Invalid
from sites.services import gestion_agents, gestion_sites
from sites.services.forms import Form
from sites.services.horaires import JOURS
from sites.tables import Agent, Service, Site, Territoire

SITE_TYPES = {"centre": "Centre", "antenne": "Antenne", "permanence": "Permanence"}


async def read_form(request: Request[Any, Any, Any]) -> Form:
    data = await request.form()
    return Form(
        {key: data.get(key) for key in data},
        {key: [str(v) for v in data.getall(key)] for key in data},
    )


def _page(
    template: str, principal: Principal, nav: str, status_code: int = 200, **context: Any
) -> Template:
    return Template(
        template, context={"principal": principal, "nav": nav, **context}, status_code=status_code
    )


def _site_values(site: dict[str, Any]) -> dict[str, Any]:
    horaires = site.get("horaires")
    values = {
        key: site.get(key)
        for key in (
            "nom",
            "kind",
            "adresse",
            "latitude",
            "longitude",
            "telephone",
            "email",
            "accessibilite",
            "actif",
        )
    }
    values["commune"] = site.get("commune_insee", "")
    values["services"] = site.get("service_ids", set())
    values["horaires_inconnus"] = horaires is None
    for jour in JOURS:
        values[f"horaires_{jour}"] = gestion_sites.format_horaires_jour((horaires or {}).get(jour))
    return values


def _submitted_site_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {key: form.values.get(key, "") for key in form.values}
    values["actif"] = form.checked("actif")
    values["horaires_inconnus"] = form.checked("horaires_inconnus")
    values["services"] = form.ids_soumis("services")
    return values


class AdminController(Controller):
    path = "/admin"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    @get("/")
    async def tableau(self, principal: Principal) -> Template:
        """Dashboard of the agent's territoire."""
        territoire = (
            await Territoire.select().where(Territoire.id == principal.territoire_id).first()
        )
        compte = {
            "sites": await Site.count().where(Site.territoire == principal.territoire_id),
            "services": await Service.count().where(Service.territoire == principal.territoire_id),
            "agents": await Agent.count().where(Agent.territoire == principal.territoire_id),
        }
        return _page(
            "admin/tableau.html",
            principal,
            "tableau",
            territoire=territoire,
            compte=compte,
            role_label=gestion_agents.ROLE_LABELS[principal.role],
        )

    # Sites ---------------------------------------------------------------

    async def _site_form(
        self,
        principal: Principal,
        *,
        site_id: int | None,
        values: dict[str, Any],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        enregistre: bool = False,
        fermetures: list[dict[str, Any]] | None = None,
        errors_fermeture: dict[str, str] | None = None,
        vf: dict[str, Any] | None = None,
    ) -> Template:
        services = await gestion_sites.territoire_services(principal)
        return _page(
            "admin/site.html",
            principal,
            "sites",
            status_code=status_code,
            titre=values.get("nom") or "Nouveau site" if site_id else "Nouveau site",
            action=f"/admin/sites/{site_id}" if site_id else "/admin/sites/nouveau",
            site_id=site_id,
            v=values,
            errors=errors or {},
            types=SITE_TYPES,
            jours=JOURS,
            services=[(s["id"], s["nom"]) for s in services],
            modifiable=principal.manages_site(site_id) if site_id else principal.is_admin,
            enregistre=enregistre,
            fermetures=fermetures or [],
            errors_fermeture=errors_fermeture or {},
            vf=vf or {},
        )

    @get("/sites")
    async def sites(self, principal: Principal, q: str = "", page: int = 1) -> Template:
        """Sites of the territoire, searchable, 50 a page."""
        resultats = await gestion_sites.list_sites(principal, q=q, page=page)
        return _page(
            "admin/sites.html", principal, "sites", resultats=resultats, q=q, types=SITE_TYPES
        )

    @get("/sites/nouveau", opt={"roles": ("admin",)})
    async def new_site(self, principal: Principal) -> Template:
        """Empty form for a new site."""
        values = {"kind": "centre", "actif": True, "services": set(), "horaires_inconnus": False}
        return await self._site_form(principal, site_id=None, values=values)

    @post("/sites/nouveau", opt={"roles": ("admin",)})
    async def create_site(
        self, request: Request[Any, Any, Any], principal: Principal
    ) -> Template | Redirect:
        """Create a site."""
        form = await read_form(request)
        try:
            site_id = await gestion_sites.save_site(principal, form)
        except Invalid as error:
            return await self._site_form(
                principal,
                site_id=None,
                values=_submitted_site_values(form),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/sites/{site_id}?enregistre=1", status_code=303)

    @get("/sites/{site_id:int}")
    async def site(self, principal: Principal, site_id: int, enregistre: bool = False) -> Template:
        """One site: its details, hours and closures; a form if the agent may edit it."""
        site = await gestion_sites.site_detail(principal, site_id)
        return await self._site_form(
            principal,
            site_id=site_id,
            values=_site_values(site),
            enregistre=enregistre,
            fermetures=site["fermetures"],
        )

    @post("/sites/{site_id:int}")
    async def update_site(
        self, request: Request[Any, Any, Any], principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Save a site's details and hours."""
        form = await read_form(request)
        try:
            await gestion_sites.save_site(principal, form, site_id)
        except Invalid as error:
            site = await gestion_sites.site_detail(principal, site_id)
            return await self._site_form(
                principal,
                site_id=site_id,
                values=_submitted_site_values(form),
                errors=error.fields,
                status_code=422,
                fermetures=site["fermetures"],
            )
        return Redirect(f"/admin/sites/{site_id}?enregistre=1", status_code=303)

    @post("/sites/{site_id:int}/fermetures")
    async def add_fermeture(
        self, request: Request[Any, Any, Any], principal: Principal, site_id: int
    ) -> Template | Redirect:
        """Add a closure to a site."""
        form = await read_form(request)
        try:
            await gestion_sites.add_fermeture(principal, site_id, form)
        except Invalid as error:
            site = await gestion_sites.site_detail(principal, site_id)
            return await self._site_form(
                principal,
                site_id=site_id,
                values=_site_values(site),
                fermetures=site["fermetures"],
                errors_fermeture=error.fields,
                vf=dict(form.values),
                status_code=422,
            )
        return Redirect(f"/admin/sites/{site_id}?enregistre=1", status_code=303)

    @post("/sites/{site_id:int}/fermetures/{fermeture_id:int}/supprimer")
    async def delete_fermeture(
        self, principal: Principal, site_id: int, fermeture_id: int
    ) -> Redirect:
        """Remove a closure."""
        await gestion_sites.delete_fermeture(principal, site_id, fermeture_id)
        return Redirect(f"/admin/sites/{site_id}?enregistre=1", status_code=303)

    # Services --------------------------------------------------------------

    @get("/services")
    async def services(self, principal: Principal) -> Template:
        """Services of the territoire with their number of sites."""
        services = await gestion_sites.territoire_services(principal)
        counts = await gestion_sites.sites_per_service(principal)
        for service in services:
            service["sites"] = counts.get(service["id"], 0)
        return _page("admin/services.html", principal, "services", services=services)

    def _service_form(
        self,
        principal: Principal,
        *,
        service_id: int | None,
        values: dict[str, Any],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        enregistre: bool = False,
    ) -> Template:
        return _page(
            "admin/service.html",
            principal,
            "services",
            status_code=status_code,
            titre=f"Service {values.get('nom', '')}" if service_id else "Nouveau service",
            action=f"/admin/services/{service_id}" if service_id else "/admin/services/nouveau",
            v=values,
            errors=errors or {},
            enregistre=enregistre,
        )

    @get("/services/nouveau", opt={"roles": ("admin",)})
    async def new_service(self, principal: Principal) -> Template:
        """Empty form for a new service."""
        return self._service_form(principal, service_id=None, values={})

    @post("/services/nouveau", opt={"roles": ("admin",)})
    async def create_service(
        self, request: Request[Any, Any, Any], principal: Principal
    ) -> Template | Redirect:
        """Create a service."""
        form = await read_form(request)
        try:
            service_id = await gestion_sites.save_service(principal, form)
        except Invalid as error:
            return self._service_form(
                principal,
                service_id=None,
                values=dict(form.values),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/services/{service_id}?enregistre=1", status_code=303)

    @get("/services/{service_id:int}", opt={"roles": ("admin",)})
    async def service(
        self, principal: Principal, service_id: int, enregistre: bool = False
    ) -> Template:
        """Edit form of a service."""
        services = {s["id"]: s for s in await gestion_sites.territoire_services(principal)}
        if service_id not in services:
            from plateforme.errors import NotFound

            raise NotFound("Ce service n'existe pas.", code="service_introuvable")
        return self._service_form(
            principal, service_id=service_id, values=services[service_id], enregistre=enregistre
        )

    @post("/services/{service_id:int}", opt={"roles": ("admin",)})
    async def update_service(
        self, request: Request[Any, Any, Any], principal: Principal, service_id: int
    ) -> Template | Redirect:
        """Save a service."""
        form = await read_form(request)
        try:
            await gestion_sites.save_service(principal, form, service_id)
        except Invalid as error:
            return self._service_form(
                principal,
                service_id=service_id,
                values=dict(form.values),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/services/{service_id}?enregistre=1", status_code=303)

    # Agents ----------------------------------------------------------------

    @get("/agents")
    async def agents(self, principal: Principal, q: str = "") -> Template:
        """Agents of the territoire."""
        agents = await gestion_agents.list_agents(principal, q=q)
        return _page(
            "admin/agents.html",
            principal,
            "agents",
            agents=agents,
            q=q,
            roles=gestion_agents.ROLE_LABELS,
        )

    async def _agent_form(
        self,
        principal: Principal,
        *,
        agent_id: int | None,
        values: dict[str, Any],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        enregistre: bool = False,
    ) -> Template:
        services = await gestion_sites.territoire_services(principal)
        sites = await gestion_agents.territoire_sites_choices(principal)
        return _page(
            "admin/agent.html",
            principal,
            "agents",
            status_code=status_code,
            titre=f"{values.get('prenom', '')} {values.get('nom', '')}"
            if agent_id
            else "Nouvel agent",
            action=f"/admin/agents/{agent_id}" if agent_id else "/admin/agents/nouveau",
            creation=agent_id is None,
            v=values,
            errors=errors or {},
            enregistre=enregistre,
            roles=gestion_agents.ROLE_LABELS,
            services=[(s["id"], s["nom"]) for s in services],
            sites=[(s["id"], f"{s['nom']} ({SITE_TYPES[s['kind']].lower()})") for s in sites],
        )

    @staticmethod
    def _submitted_agent_values(form: Form) -> dict[str, Any]:
        values: dict[str, Any] = {
            k: form.values.get(k, "") for k in ("prenom", "nom", "email", "role")
        }
        values["actif"] = form.checked("actif")
        values["sites"] = form.ids_soumis("sites")
        values["services"] = form.ids_soumis("services")
        return values

    @get("/agents/nouveau", opt={"roles": ("admin",)})
    async def new_agent(self, principal: Principal) -> Template:
        """Empty form for a new agent."""
        values = {"role": "agent", "actif": True, "sites": set(), "services": set()}
        return await self._agent_form(principal, agent_id=None, values=values)

    @post("/agents/nouveau", opt={"roles": ("admin",)})
    async def create_agent(
        self, request: Request[Any, Any, Any], principal: Principal
    ) -> Template | Redirect:
        """Create an agent account."""
        form = await read_form(request)
        try:
            agent_id = await gestion_agents.save_agent(principal, form)
        except Invalid as error:
            return await self._agent_form(
                principal,
                agent_id=None,
                values=self._submitted_agent_values(form),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/agents/{agent_id}?enregistre=1", status_code=303)

    @get("/agents/{agent_id:int}", opt={"roles": ("admin",)})
    async def agent(
        self, principal: Principal, agent_id: int, enregistre: bool = False
    ) -> Template:
        """Edit form of an agent."""
        agent = await gestion_agents.agent_detail(principal, agent_id)
        values = {**agent, "sites": agent["site_ids"], "services": agent["service_ids"]}
        return await self._agent_form(
            principal, agent_id=agent_id, values=values, enregistre=enregistre
        )

    @post("/agents/{agent_id:int}", opt={"roles": ("admin",)})
    async def update_agent(
        self, request: Request[Any, Any, Any], principal: Principal, agent_id: int
    ) -> Template | Redirect:
        """Save an agent account."""
        form = await read_form(request)
        try:
            await gestion_agents.save_agent(principal, form, agent_id)
        except Invalid as error:
            return await self._agent_form(
                principal,
                agent_id=agent_id,
                values=self._submitted_agent_values(form),
                errors=error.fields,
                status_code=422,
            )
        return Redirect(f"/admin/agents/{agent_id}?enregistre=1", status_code=303)
