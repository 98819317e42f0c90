"""Agents: sign-in with a rate limit across workers, and the Principal of a session."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from plateforme.auth import Principal
from plateforme.db import lecture, write_transaction
from plateforme.errors import NotAuthenticated, TooManyRequests
from plateforme.passwords import verify_password
from sites.tables import Agent, AgentService, AgentSite, TentativeConnexion

# One address may try several accounts (a shared office), but not endlessly.
IP_FACTOR = 4


async def load_principal(agent_id: int, epoch: int) -> Principal | None:
    """The Principal of a session, or None if the agent is gone, inactive or signed out.

    Read on every signed-in request: its three reads share one connection (`lecture`)."""
    async with lecture():
        return await _principal(agent_id, epoch)


async def _principal(agent_id: int, epoch: int) -> Principal | None:
    agent = (
        await Agent.select(
            Agent.id,
            Agent.territoire,
            Agent.role,
            Agent.prenom,
            Agent.nom,
            Agent.email,
            Agent.actif,
            Agent.session_epoch,
        )
        .where(Agent.id == agent_id)
        .first()
    )
    if agent is None or not agent["actif"] or agent["session_epoch"] != epoch:
        return None
    sites = await AgentSite.select(AgentSite.site).where(AgentSite.agent == agent_id)
    services = await AgentService.select(AgentService.service).where(AgentService.agent == agent_id)
    return Principal(
        agent_id=agent["id"],
        territoire_id=agent["territoire"],
        role=agent["role"],
        prenom=agent["prenom"],
        nom=agent["nom"],
        email=agent["email"],
        site_ids=frozenset(row["site"] for row in sites),
        service_ids=frozenset(row["service"] for row in services),
    )


async def _recent_failures(*, email: str | None, ip: str | None, since: datetime) -> int:
    query = TentativeConnexion.count().where(
        TentativeConnexion.succes == False,  # noqa: E712 - Piccolo builds SQL from it
        TentativeConnexion.at >= since,
    )
    if email is not None:
        last_success = (
            await TentativeConnexion.select(TentativeConnexion.at)
            .where(TentativeConnexion.email == email, TentativeConnexion.succes == True)  # noqa: E712
            .order_by(TentativeConnexion.at, ascending=False)
            .first()
        )
        if last_success is not None and last_success["at"] > since:
            since = last_success["at"]
            query = TentativeConnexion.count().where(
                TentativeConnexion.succes == False,  # noqa: E712
                TentativeConnexion.at > since,
            )
        query = query.where(TentativeConnexion.email == email)
    if ip is not None:
        query = query.where(TentativeConnexion.ip == ip)
    count: int = await query
    return count


async def authenticate(
    email: str, password: str, *, ip: str, max_failures: int, window_seconds: int
) -> tuple[int, int]:
    """Check the credentials; return (agent id, session epoch) or raise.

    Failures are counted per e-mail (since its last success) and per address
    within the window, in the database so that every worker shares the count.
    """
    email = email.strip().lower()
    now = datetime.now(UTC)
    since = now - timedelta(seconds=window_seconds)
    if (
        await _recent_failures(email=email, ip=None, since=since) >= max_failures
        or await _recent_failures(email=None, ip=ip, since=since) >= max_failures * IP_FACTOR
    ):
        minutes = max(1, window_seconds // 60)
        raise TooManyRequests(
            f"Trop de tentatives de connexion. Réessayez dans {minutes} minutes.",
            retry_after=window_seconds,
        )
    agent = (
        await Agent.select(Agent.id, Agent.mot_de_passe, Agent.actif, Agent.session_epoch)
        .where(Agent.email == email)
        .first()
    )
    stored_hash = agent["mot_de_passe"] if agent and agent["actif"] else None
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    ok = await asyncio.to_thread(verify_password, stored_hash, password)
    async with write_transaction():
        await TentativeConnexion(email=email, ip=ip, succes=ok, at=now).save()
    if not ok or agent is None:
        raise NotAuthenticated("E-mail ou mot de passe incorrect.", code="identifiants_invalides")
    return agent["id"], agent["session_epoch"]
