"""Managing the sites, their services, hours and closures, within the agent's territoire."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from plateforme.auth import Principal
from plateforme.db import is_unique_violation, write_transaction
from plateforme.errors import Forbidden, Invalid, NotFound
from sites.services.forms import Form
from sites.services.horaires import JOURS, HorairesIllisibles, horaires_to_json, parse_horaires
from sites.tables import Commune, Fermeture, Service, Site, SiteKind, SiteService

PER_PAGE = 50
SITE_KINDS = tuple(kind.value for kind in SiteKind)
_INTERVAL = re.compile(r"^\s*(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})\s*$")


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def format_horaires_jour(intervals: list[list[str]] | None) -> str:
    """The text a person types for one day: "08:30-12:00, 13:30-17:00"."""
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])


def horaires_from_form(form: Form) -> dict[str, list[list[str]]] | None:
    if form.checked("horaires_inconnus"):
        return None
    raw: dict[str, list[list[str]]] = {}
    for jour in JOURS:
        text = form.text(f"horaires_{jour}", max_length=200)
        intervals = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = _INTERVAL.match(part)
            if not match:
                form.errors.add(
                    f"horaires_{jour}", f"« {part} » : écrivez les plages comme 08:30-12:00."
                )
                break
            h1, m1, h2, m2 = match.groups()
            intervals.append([f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"])
        if intervals:
            raw[jour] = intervals
        try:
            parse_horaires({jour: intervals})
        except HorairesIllisibles as error:
            form.errors.add(f"horaires_{jour}", str(error).capitalize() + ".")
    return horaires_to_json(parse_horaires(raw)) if not form.errors else raw


async def territoire_site(principal: Principal, site_id: int) -> dict[str, Any]:
    """The site if it belongs to the agent's territoire; otherwise it does not exist for them."""
    site = (
        await Site.select(
            *Site.all_columns(),
            Site.commune.insee.as_alias("commune_insee"),
            Site.commune.nom.as_alias("commune_nom"),
        )
        .where(Site.id == site_id, Site.territoire == principal.territoire_id)
        .output(load_json=True)
        .first()
    )
    if site is None:
        raise NotFound("Ce site n'existe pas.", code="site_introuvable")
    return site


def _require_manager(principal: Principal, site_id: int | None) -> None:
    allowed = principal.is_admin if site_id is None else principal.manages_site(site_id)
    if not allowed:
        raise Forbidden("Vous ne pouvez pas modifier ce site.")


async def list_sites(principal: Principal, *, q: str = "", page: int = 1) -> Page:
    conditions = [Site.territoire == principal.territoire_id]
    if q.strip():
        conditions.append(Site.nom.ilike(f"%{q.strip()}%"))
    total = await Site.count().where(*conditions)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = (
        await Site.select(
            Site.id, Site.nom, Site.kind, Site.actif, Site.commune.nom.as_alias("commune_nom")
        )
        .where(*conditions)
        .order_by(Site.kind)
        .order_by(Site.nom)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    for row in rows:
        row["modifiable"] = principal.manages_site(row["id"])
    return Page(rows=rows, page=page, pages=pages, total=total)


async def site_detail(principal: Principal, site_id: int) -> dict[str, Any]:
    site = await territoire_site(principal, site_id)
    links = await SiteService.select(SiteService.service).where(SiteService.site == site_id)
    site["service_ids"] = {row["service"] for row in links}
    site["fermetures"] = (
        await Fermeture.select().where(Fermeture.site == site_id).order_by(Fermeture.debut)
    )
    site["modifiable"] = principal.manages_site(site_id)
    return site


async def territoire_services(principal: Principal) -> list[dict[str, Any]]:
    return (
        await Service.select()
        .where(Service.territoire == principal.territoire_id)
        .order_by(Service.nom)
    )


async def sites_per_service(principal: Principal) -> dict[int, int]:
    rows = (
        await SiteService.select(SiteService.service, Count(SiteService.id, alias="sites"))
        .where(SiteService.service.territoire == principal.territoire_id)
        .group_by(SiteService.service)
    )
    return {row["service"]: row["sites"] for row in rows}


async def save_site(principal: Principal, form: Form, site_id: int | None = None) -> int:
    """Create (admins) or update (admins, the site's responsable) a site from its form."""
    _require_manager(principal, site_id)
    if site_id is not None:
        await territoire_site(principal, site_id)
    values: dict[Any, Any] = {
        "nom": form.text("nom", required=True, max_length=150, label="Le nom"),
        "kind": form.choice("kind", SITE_KINDS, label="un type de site"),
        "adresse": form.text("adresse", required=True, max_length=255, label="L'adresse"),
        "telephone": form.text("telephone", max_length=30),
        "email": form.email("email", required=False),
        "accessibilite": form.text("accessibilite", max_length=2000),
        "actif": form.checked("actif"),
    }
    insee = form.text("commune", required=True, max_length=5, label="La commune")
    latitude = form.number("latitude", low=-90, high=90, label="La latitude")
    longitude = form.number("longitude", low=-180, high=180, label="La longitude")
    values["horaires"] = horaires_from_form(form)
    service_ids = form.ids("services")
    commune = None
    if insee:
        commune = (
            await Commune.select(Commune.id, Commune.latitude, Commune.longitude)
            .where(Commune.insee == insee)
            .first()
        )
        if commune is None:
            form.errors.add(
                "commune", "Commune inconnue : donnez son code INSEE (ex. 31555 pour Toulouse)."
            )
    known = {row["id"] for row in await territoire_services(principal)}
    if service_ids - known:
        form.errors.add("services", "Service inconnu.")
    form.errors.raise_if_any()
    assert commune is not None
    values["commune"] = commune["id"]
    values["latitude"] = latitude if latitude is not None else commune["latitude"]
    values["longitude"] = longitude if longitude is not None else commune["longitude"]
    if values["latitude"] is None or values["longitude"] is None:
        raise Invalid(fields={"latitude": "Donnez les coordonnées du site."})
    async with write_transaction():
        if site_id is None:
            row = Site(territoire=principal.territoire_id, **values)
            await row.save()
            site_id = row.id
        else:
            await Site.update(values).where(Site.id == site_id)
            await SiteService.delete().where(SiteService.site == site_id)
        if service_ids:
            await SiteService.insert(
                *(SiteService(site=site_id, service=s) for s in sorted(service_ids))
            )
    return site_id


async def add_fermeture(principal: Principal, site_id: int, form: Form) -> None:
    await territoire_site(principal, site_id)
    _require_manager(principal, site_id)
    debut = form.day("debut", label="Premier jour")
    fin = form.day("fin", label="Dernier jour")
    motif = form.text("motif", required=True, max_length=200, label="Le motif")
    if debut and fin and fin < debut:
        form.errors.add("fin", "Le dernier jour doit suivre le premier.")
    form.errors.raise_if_any()
    async with write_transaction():
        await Fermeture(site=site_id, debut=debut, fin=fin, motif=motif).save()


async def delete_fermeture(principal: Principal, site_id: int, fermeture_id: int) -> None:
    await territoire_site(principal, site_id)
    _require_manager(principal, site_id)
    async with write_transaction():
        found = (
            await Fermeture.select(Fermeture.id)
            .where(Fermeture.id == fermeture_id, Fermeture.site == site_id)
            .first()
        )
        if found is None:
            raise NotFound("Cette fermeture n'existe pas.", code="fermeture_introuvable")
        await Fermeture.delete().where(Fermeture.id == fermeture_id)


async def save_service(principal: Principal, form: Form, service_id: int | None = None) -> int:
    if not principal.is_admin:
        raise Forbidden("Seuls les administrateurs du territoire gèrent les services.")
    code = form.text("code", required=True, max_length=40, label="Le code").lower()
    nom = form.text("nom", required=True, max_length=100, label="Le nom")
    description = form.text("description", max_length=2000)
    if code and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", code):
        form.errors.add("code", "Lettres minuscules, chiffres et tirets seulement (ex. pmi).")
    try:
        async with write_transaction():
            if service_id is not None:
                found = (
                    await Service.select(Service.id)
                    .where(Service.id == service_id, Service.territoire == principal.territoire_id)
                    .first()
                )
                if found is None:
                    raise NotFound("Ce service n'existe pas.", code="service_introuvable")
            same_code = Service.select(Service.id).where(
                Service.territoire == principal.territoire_id, Service.code == code
            )
            if service_id is not None:
                same_code = same_code.where(Service.id != service_id)
            if code and await same_code.first():
                form.errors.add("code", "Ce code est déjà utilisé par un autre service.")
            form.errors.raise_if_any()
            values: dict[Any, Any] = {"code": code, "nom": nom, "description": description}
            if service_id is None:
                row = Service(territoire=principal.territoire_id, **values)
                await row.save()
                return int(row.id)
            await Service.update(values).where(Service.id == service_id)
            return service_id
    except Exception as error:
        if not is_unique_violation(error):
            raise
        form.errors.add("code", "Ce code est déjà utilisé par un autre service.")
        form.errors.raise_if_any()
        raise
