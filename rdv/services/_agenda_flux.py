"""An agent's private calendar feed: a secret address, stored only as its SHA-256.

The clear token exists in the agent's browser once, when it is created; the
database keeps its hash, so a copy of the database gives no feed. The feed
holds the usager's name and the motif (as the agenda does) but no phone
number, e-mail or rdv code: it ends up in third-party calendar services.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from plateforme.db import lecture, write_transaction
from plateforme.errors import NotFound
from rdv.ics import RdvIcs, flux_agent
from rdv.services._agenda_participants import participants_query, usager_agenda
from rdv.tables import FluxIcs, Rdv

PASSE = timedelta(days=30)
AVENIR = timedelta(days=180)
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
_JETON = re.compile(r"[A-Za-z0-9_-]{43}")


def hash_jeton(jeton: str) -> str:
    return hashlib.sha256(jeton.encode()).hexdigest()


async def flux_actif(agent_id: int) -> dict[str, Any] | None:
    """The agent's current feed (its creation date; never its token), or None."""
    return (
        await FluxIcs.select(FluxIcs.id, FluxIcs.created_at)
        .where(FluxIcs.agent == agent_id, FluxIcs.revoked_at.is_null())
        .order_by(FluxIcs.created_at, ascending=False)
        .first()
    )


async def creer_flux(agent_id: int) -> str | None:
    """A new feed's clear token, or None when the agent already has one (shown only once)."""
    jeton = secrets.token_urlsafe(32)
    async with write_transaction():
        if await FluxIcs.exists().where(FluxIcs.agent == agent_id, FluxIcs.revoked_at.is_null()):
            return None
        await FluxIcs(agent=agent_id, token_hash=hash_jeton(jeton)).save()
    return jeton


async def revoquer_flux(agent_id: int) -> None:
    """Every address of the agent's feed stops working at once."""
    async with write_transaction():
        await FluxIcs.update({FluxIcs.revoked_at: datetime.now(UTC)}).where(
            FluxIcs.agent == agent_id, FluxIcs.revoked_at.is_null()
        )


async def calendrier_du_jeton(
    jeton: str, *, host: str, public_url: str, maintenant: datetime | None = None
) -> bytes:
    """The feed of the token's agent, from 30 days ago to 180 days ahead; NotFound when the
    token is unknown, revoked, or its agent deactivated."""
    if not _JETON.fullmatch(jeton):
        raise NotFound()
    maintenant = maintenant or datetime.now(UTC)
    async with lecture():
        flux = (
            await FluxIcs.select(
                FluxIcs.agent,
                FluxIcs.agent.prenom.as_alias("prenom"),
                FluxIcs.agent.nom.as_alias("nom"),
                FluxIcs.agent.territoire.nom.as_alias("territoire_nom"),
                FluxIcs.agent.territoire.fuseau_horaire.as_alias("fuseau"),
            )
            .where(
                FluxIcs.token_hash == hash_jeton(jeton),
                FluxIcs.revoked_at.is_null(),
                FluxIcs.agent.actif.eq(True),
            )
            .first()
        )
        if flux is None:
            raise NotFound()
        rows = await Rdv.select(
            Rdv.id,
            Rdv.debut,
            Rdv.fin,
            Rdv.statut,
            Rdv.sequence,
            Rdv.created_at,
            Rdv.updated_at,
            Rdv.motif.nom.as_alias("motif_nom"),
            Rdv.site.nom.as_alias("site_nom"),
            Rdv.site.adresse.as_alias("site_adresse"),
        ).where(
            Rdv.agent == flux["agent"],
            Rdv.debut >= maintenant - PASSE,
            Rdv.debut < maintenant + AVENIR,
        )
        noms: dict[int, list[str]] = defaultdict(list)
        if rows:
            for p in await participants_query([r["id"] for r in rows]):
                participant = usager_agenda(p)
                if participant.inscrit:
                    noms[p["rdv"]].append(participant.nom)
    zone = ZoneInfo(flux["fuseau"])
    evenements = [
        RdvIcs(
            uid=f"rdv-{r['id']}@{host}",
            sequence=r["sequence"],
            debut=r["debut"],
            fin=r["fin"],
            fuseau=flux["fuseau"],
            titre=r["motif_nom"],
            lieu=f"{r['site_nom']}, {r['site_adresse']}",
            # Not the rdv's code: with the name's first letters, it lets one cancel it.
            description=f"Agenda : {public_url}/agenda?jour={r['debut'].astimezone(zone).date()}",
            organisateur_nom=flux["territoire_nom"],
            organisateur_email=None,
            participant_nom=", ".join(noms[r["id"]]) or None,
            participant_email=None,
            statut=r["statut"],
            cree_le=r["created_at"],
            modifie_le=r["updated_at"],
        )
        for r in sorted(rows, key=lambda r: (r["debut"], r["id"]))
    ]
    return flux_agent(
        evenements,
        nom_calendrier=f"Rendez-vous de {flux['prenom']} {flux['nom']}",
        fuseau=flux["fuseau"],
    )
