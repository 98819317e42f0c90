"""Managing the agents of a territoire: accounts, roles, sites and services."""

from __future__ import annotations

import asyncio
from typing import Any

from plateforme.auth import ROLE_ADMIN, ROLE_AGENT, ROLE_RESPONSABLE, Principal
from plateforme.db import is_unique_violation, write_transaction
from plateforme.errors import Forbidden, NotFound
from plateforme.passwords import MIN_LENGTH, hash_password
from sites.services.forms import Form
from sites.tables import Agent, AgentService, AgentSite, Service, Site

ROLES = (ROLE_ADMIN, ROLE_RESPONSABLE, ROLE_AGENT)
ROLE_LABELS = {
    ROLE_ADMIN: "Administrateur du territoire",
    ROLE_RESPONSABLE: "Responsable de site",
    ROLE_AGENT: "Agent",
}
PUBLIC_COLUMNS = (Agent.id, Agent.prenom, Agent.nom, Agent.email, Agent.role, Agent.actif)


async def list_agents(principal: Principal, *, q: str = "") -> list[dict[str, Any]]:
    query = Agent.select(*PUBLIC_COLUMNS).where(Agent.territoire == principal.territoire_id)
    if q.strip():
        pattern = f"%{q.strip()}%"
        query = query.where(
            (Agent.nom.ilike(pattern))
            | (Agent.prenom.ilike(pattern))
            | (Agent.email.ilike(pattern))
        )
    return await query.order_by(Agent.nom).order_by(Agent.prenom).limit(500)


async def agent_detail(principal: Principal, agent_id: int) -> dict[str, Any]:
    agent = (
        await Agent.select(*PUBLIC_COLUMNS)
        .where(Agent.id == agent_id, Agent.territoire == principal.territoire_id)
        .first()
    )
    if agent is None:
        raise NotFound("Cet agent n'existe pas.", code="agent_introuvable")
    agent["site_ids"] = {
        r["site"] for r in await AgentSite.select(AgentSite.site).where(AgentSite.agent == agent_id)
    }
    agent["service_ids"] = {
        r["service"]
        for r in await AgentService.select(AgentService.service).where(
            AgentService.agent == agent_id
        )
    }
    return agent


async def save_agent(principal: Principal, form: Form, agent_id: int | None = None) -> int:
    """Create or update an agent (admins of the territoire only)."""
    if not principal.is_admin:
        raise Forbidden("Seuls les administrateurs du territoire gèrent les agents.")
    if agent_id is not None:
        await agent_detail(principal, agent_id)
    prenom = form.text("prenom", required=True, max_length=100, label="Le prénom")
    nom = form.text("nom", required=True, max_length=100, label="Le nom")
    email = form.email("email")
    role = form.choice("role", ROLES, label="un rôle")
    actif = form.checked("actif")
    password = form.values.get("mot_de_passe") or ""
    if not isinstance(password, str):
        password = ""
    if agent_id is None and not password:
        form.errors.add("mot_de_passe", "Le mot de passe est obligatoire.")
    elif password and len(password) < MIN_LENGTH:
        form.errors.add("mot_de_passe", f"{MIN_LENGTH} caractères au moins.")
    if agent_id == principal.agent_id and (role != ROLE_ADMIN or not actif):
        form.errors.add("role", "Vous ne pouvez pas retirer vos propres droits d'administration.")
    site_ids = form.ids("sites")
    service_ids = form.ids("services")
    if site_ids:
        known_sites = await Site.count().where(
            Site.id.is_in(list(site_ids)), Site.territoire == principal.territoire_id
        )
        if known_sites != len(site_ids):
            form.errors.add("sites", "Site inconnu.")
    if service_ids:
        known_services = await Service.count().where(
            Service.id.is_in(list(service_ids)), Service.territoire == principal.territoire_id
        )
        if known_services != len(service_ids):
            form.errors.add("services", "Service inconnu.")
    if role == ROLE_RESPONSABLE and not site_ids:
        form.errors.add("sites", "Un responsable de site doit avoir au moins un site.")
    form.errors.raise_if_any()
    password_hash = await asyncio.to_thread(hash_password, password) if password else None
    try:
        async with write_transaction():
            taken = Agent.select(Agent.id).where(Agent.email == email)
            if agent_id is not None:
                taken = taken.where(Agent.id != agent_id)
            if await taken.first():
                form.errors.add("email", "Cette adresse est déjà utilisée par un autre compte.")
                form.errors.raise_if_any()
            values: dict[Any, Any] = {
                "prenom": prenom,
                "nom": nom,
                "email": email,
                "role": role,
                "actif": actif,
            }
            if agent_id is None:
                row = Agent(
                    territoire=principal.territoire_id, mot_de_passe=password_hash, **values
                )
                await row.save()
                agent_id = int(row.id)
            else:
                previous = (
                    await Agent.select(Agent.actif, Agent.role).where(Agent.id == agent_id).first()
                )
                assert previous is not None
                if password_hash or (previous["actif"] and not actif) or previous["role"] != role:
                    # Sign the agent out everywhere: their rights or credentials changed.
                    values[Agent.session_epoch] = Agent.session_epoch + 1
                if password_hash:
                    values["mot_de_passe"] = password_hash
                await Agent.update(values).where(Agent.id == agent_id)
                await AgentSite.delete().where(AgentSite.agent == agent_id)
                await AgentService.delete().where(AgentService.agent == agent_id)
            if site_ids:
                await AgentSite.insert(
                    *(AgentSite(agent=agent_id, site=s) for s in sorted(site_ids))
                )
            if service_ids:
                await AgentService.insert(
                    *(AgentService(agent=agent_id, service=s) for s in sorted(service_ids))
                )
    except Exception as error:
        # Two admins creating the same e-mail at once: the unique index decides.
        if not is_unique_violation(error):
            raise
        form.errors.add("email", "Cette adresse est déjà utilisée par un autre compte.")
        form.errors.raise_if_any()
    assert agent_id is not None
    return agent_id


async def territoire_sites_choices(principal: Principal) -> list[dict[str, Any]]:
    """Sites to pick from in the agent form (centres and antennes first)."""
    return (
        await Site.select(Site.id, Site.nom, Site.kind)
        .where(Site.territoire == principal.territoire_id)
        .order_by(Site.kind)
        .order_by(Site.nom)
    )
