"""Who may see or change which agenda: the agent themself, a responsable for the agents and
rdvs of their sites, an admin for the whole territoire; nobody across territoires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from plateforme.auth import Principal
from plateforme.errors import Forbidden, NotFound
from rdv.tables import Motif
from sites.services.forms import Form
from sites.tables import Agent, AgentService, AgentSite, Site, Territoire

AGENT_INTROUVABLE = "Cet agent n'existe pas."


@dataclass(frozen=True)
class AgentAgenda:
    """The agent whose agenda is shown or changed, and whether it is the signed-in one."""

    id: int
    prenom: str
    nom: str
    site_ids: frozenset[int]
    service_ids: frozenset[int]
    soi_meme: bool

    @property
    def nom_complet(self) -> str:
        return f"{self.prenom} {self.nom}"


async def fuseau(principal: Principal) -> str:
    row = (
        await Territoire.select(Territoire.fuseau_horaire)
        .where(Territoire.id == principal.territoire_id)
        .first()
    )
    return str(row["fuseau_horaire"]) if row else "Europe/Paris"


def aujourd_hui(zone: str, maintenant: datetime | None = None) -> date:
    return (maintenant or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)).date()


def bornes_utc(premier: date, jours: int, zone: str) -> tuple[datetime, datetime]:
    """The instants of local midnight on `premier` and `jours` days later (DST-proof)."""
    tz = ZoneInfo(zone)
    debut = datetime.combine(premier, time(), tzinfo=tz)
    fin = datetime.combine(premier + timedelta(days=jours), time(), tzinfo=tz)
    return debut, fin


async def agent_cible(principal: Principal, agent_id: int | None) -> AgentAgenda:
    """The agenda's agent: oneself by default; another one for their admin or responsable.

    An agent of another territoire does not exist (404); one of the territoire
    that the principal does not manage is refused (403).
    """
    if agent_id is None or agent_id == principal.agent_id:
        return AgentAgenda(
            id=principal.agent_id,
            prenom=principal.prenom,
            nom=principal.nom,
            site_ids=principal.site_ids,
            service_ids=principal.service_ids,
            soi_meme=True,
        )
    row = (
        await Agent.select(Agent.id, Agent.prenom, Agent.nom)
        .where(Agent.id == agent_id, Agent.territoire == principal.territoire_id)
        .first()
    )
    if row is None:
        raise NotFound(AGENT_INTROUVABLE, code="agent_introuvable")
    sites = frozenset(
        r["site"] for r in await AgentSite.select(AgentSite.site).where(AgentSite.agent == agent_id)
    )
    if not (principal.is_admin or (principal.role == "responsable" and sites & principal.site_ids)):
        raise Forbidden("Vous ne pouvez pas consulter l'agenda de cet agent.")
    services = frozenset(
        r["service"]
        for r in await AgentService.select(AgentService.service).where(
            AgentService.agent == agent_id
        )
    )
    return AgentAgenda(
        id=row["id"],
        prenom=row["prenom"],
        nom=row["nom"],
        site_ids=sites,
        service_ids=services,
        soi_meme=False,
    )


def sites_gerables(principal: Principal, cible: AgentAgenda) -> frozenset[int]:
    """Sites where the principal may open plages for the agent: a responsable only theirs."""
    if cible.soi_meme or principal.is_admin:
        return cible.site_ids
    return cible.site_ids & principal.site_ids


def verifier_droit_sur_rdv(principal: Principal, *, agent_id: int, site_id: int) -> None:
    """Raise Forbidden unless the principal may change an rdv of this agent at this site.

    The caller has already checked the territoire (404 otherwise).
    """
    if agent_id == principal.agent_id or principal.manages_site(site_id):
        return
    raise Forbidden("Vous ne pouvez pas modifier ce rendez-vous.")


async def site_du_territoire(principal: Principal, site_id: int) -> dict[str, Any]:
    site = (
        await Site.select(Site.id, Site.nom, Site.adresse, Site.territoire)
        .where(Site.id == site_id, Site.territoire == principal.territoire_id)
        .first()
    )
    if site is None:
        raise NotFound("Ce site n'existe pas.", code="site_introuvable")
    return site


async def agents_visibles(principal: Principal) -> list[dict[str, Any]]:
    """Agents whose agenda the principal may open: all of the territoire for an admin."""
    query = Agent.select(Agent.id, Agent.prenom, Agent.nom).where(
        Agent.territoire == principal.territoire_id, Agent.actif.eq(True)
    )
    if principal.is_admin:
        pass
    elif principal.role == "responsable" and principal.site_ids:
        ids = await AgentSite.select(AgentSite.agent).where(
            AgentSite.site.is_in(list(principal.site_ids))
        )
        query = query.where(Agent.id.is_in([r["agent"] for r in ids] or [principal.agent_id]))
    else:
        return []
    return await query.order_by(Agent.nom).order_by(Agent.prenom)


async def sites_visibles(principal: Principal) -> list[dict[str, Any]]:
    """Sites whose day the principal may print: theirs for a responsable, all for an admin."""
    query = Site.select(Site.id, Site.nom).where(Site.territoire == principal.territoire_id)
    if principal.is_admin:
        query = query.where(Site.actif.eq(True))
    elif principal.role == "responsable" and principal.site_ids:
        query = query.where(Site.id.is_in(list(principal.site_ids)))
    else:
        return []
    return await query.order_by(Site.nom)


async def motifs_et_sites(
    principal: Principal, cible: AgentAgenda
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(motifs, sites) of the agent's work: active motifs of their services, agent-only ones
    included, and their active sites (for a responsable, only the sites they manage)."""
    motifs: list[dict[str, Any]] = []
    if cible.service_ids:
        motifs = (
            await Motif.select(
                Motif.id,
                Motif.nom,
                Motif.duree_minutes,
                Motif.reservable_en_ligne,
                Motif.collectif,
                Motif.capacite,
                Motif.service,
                Motif.service.nom.as_alias("service_nom"),
            )
            .where(Motif.service.is_in(list(cible.service_ids)), Motif.actif.eq(True))
            .order_by(Motif.service.nom)
            .order_by(Motif.nom)
        )
    sites: list[dict[str, Any]] = []
    ids = sites_gerables(principal, cible)
    if ids:
        sites = (
            await Site.select(Site.id, Site.nom)
            .where(
                Site.id.is_in(list(ids)),
                Site.territoire == principal.territoire_id,
                Site.actif.eq(True),
            )
            .order_by(Site.nom)
        )
    return motifs, sites


def libelle_motif(motif: dict[str, Any]) -> str:
    libelle = f"{motif['service_nom']} : {motif['nom']} ({motif['duree_minutes']} min"
    if motif["collectif"] and motif["capacite"]:
        libelle += f", collectif, {motif['capacite']} places"
    libelle += ")"
    return libelle if motif["reservable_en_ligne"] else f"{libelle}, réservé aux agents"


def lire_heure(form: Form, name: str, *, label: str) -> time | None:
    raw = form.text(name)
    try:
        return time.fromisoformat(raw).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        form.errors.add(name, f"{label} : heure invalide (HH:MM).")
        return None


def lire_choix(form: Form, name: str, choix: set[int], message: str) -> int | None:
    raw = form.text(name)
    if (raw.isascii() and raw.isdigit()) and int(raw) in choix:
        return int(raw)
    form.errors.add(name, message)
    return None
