"""Managing a site's queues and counters (the admin pages), and what the counter console reads
besides `etat.etat_console`: the sites an agent may open a counter at, and their own counter.

Who may manage: the territoire's admins and the site's responsables; a site of another
territoire does not exist for them (404), a plain agent is refused (403).
"""

from __future__ import annotations

import re
from typing import Any

from file_attente.tables import FileAttente, Guichet, StatutTicket, Ticket
from plateforme.auth import Principal
from plateforme.db import is_unique_violation, write_transaction
from plateforme.errors import Conflict, Forbidden, Invalid, NotFound
from sites.services.forms import Form
from sites.services.gestion_sites import format_horaires_jour, horaires_from_form
from sites.services.horaires import JOURS
from sites.tables import Site, SiteService

PREFIXE = re.compile(r"[A-Z]{1,3}")
MAX_PRIORITES_DE_SUITE = 20
MAX_ALERTE_AVANT = 50
NOM_PRIS = "Un autre guichet de ce site porte déjà ce nom."


async def site_du_territoire(principal: Principal, site_id: int) -> dict[str, Any]:
    """The site (id, nom, fuseau) if it belongs to the agent's territoire; otherwise it does not
    exist for them."""
    row = (
        await Site.select(Site.id, Site.nom, Site.territoire.fuseau_horaire.as_alias("fuseau"))
        .where(Site.id == site_id, Site.territoire == principal.territoire_id)
        .first()
    )
    if row is None:
        raise NotFound("Ce site n'existe pas.", code="site_introuvable")
    return row


async def site_gere(principal: Principal, site_id: int) -> dict[str, Any]:
    site = await site_du_territoire(principal, site_id)
    if not principal.manages_site(site_id):
        raise Forbidden(
            "Seuls les responsables de ce site et les administrateurs gèrent ses files, "
            "ses guichets et ses appareils."
        )
    return site


async def services_du_site(site_id: int) -> list[tuple[int, str]]:
    rows = (
        await SiteService.select(
            SiteService.service.id.as_alias("id"), SiteService.service.nom.as_alias("nom")
        )
        .where(SiteService.site == site_id)
        .order_by(SiteService.service.nom)
    )
    return [(r["id"], r["nom"]) for r in rows]


# Queues ----------------------------------------------------------------------------------


async def files(principal: Principal, site_id: int) -> list[dict[str, Any]]:
    """Every queue of the site, inactive ones included, with its service's name."""
    await site_gere(principal, site_id)
    return (
        await FileAttente.select(
            *FileAttente.all_columns(), FileAttente.service.nom.as_alias("service_nom")
        )
        .where(FileAttente.site == site_id)
        .order_by(FileAttente.prefixe)
        .output(load_json=True)
    )


async def file(principal: Principal, site_id: int, file_id: int) -> dict[str, Any]:
    await site_gere(principal, site_id)
    row = (
        await FileAttente.select()
        .where(FileAttente.id == file_id, FileAttente.site == site_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("Cette file d'attente n'existe pas.", code="file_inconnue")
    return row


def valeurs_file(row: dict[str, Any]) -> dict[str, Any]:
    """A queue as its form shows it."""
    values = {
        key: row.get(key)
        for key in (
            "nom",
            "service",
            "prefixe",
            "priorites_consecutives_max",
            "transfert_garde_rang",
            "alerte_avant",
            "actif",
        )
    }
    horaires = row.get("horaires") or {}
    for jour in JOURS:
        values[f"horaires_{jour}"] = format_horaires_jour(horaires.get(jour))
    return values


def _entier(form: Form, name: str, *, low: int, high: int, label: str) -> int:
    value = form.number(name, low=low, high=high, label=label, required=True)
    if value is not None and value != int(value):
        form.errors.add(name, f"{label} doit être un nombre entier.")
    return int(value or 0)


async def enregistrer_file(
    principal: Principal, site_id: int, form: Form, file_id: int | None = None
) -> int:
    """Create or update a queue from its form; Invalid with every field's error at once."""
    await site_gere(principal, site_id)
    if file_id is not None:
        await file(principal, site_id, file_id)
    nom = form.text("nom", required=True, max_length=100, label="Le nom")
    prefixe = form.text("prefixe", required=True, max_length=3, label="Le préfixe").upper()
    if prefixe and not PREFIXE.fullmatch(prefixe):
        form.errors.add("prefixe", "Une à trois lettres sans accent, par exemple A ou PMI.")
    services = dict(await services_du_site(site_id))
    raw_service = form.text("service")
    service_id = int(raw_service) if raw_service.isascii() and raw_service.isdigit() else None
    if service_id not in services:
        form.errors.add("service", "Choisissez un service proposé par ce site.")
    values: dict[Any, Any] = {
        "nom": nom,
        "prefixe": prefixe,
        "service": service_id,
        "priorites_consecutives_max": _entier(
            form,
            "priorites_consecutives_max",
            low=0,
            high=MAX_PRIORITES_DE_SUITE,
            label="Le nombre de priorités de suite",
        ),
        "alerte_avant": _entier(
            form, "alerte_avant", low=0, high=MAX_ALERTE_AVANT, label="Le rang de l'alerte"
        ),
        "transfert_garde_rang": form.checked("transfert_garde_rang"),
        "actif": form.checked("actif"),
        # All days empty: the queue follows its site's hours.
        "horaires": horaires_from_form(form) or None,
    }
    # Checked before the write too, so that every field's error is told at once.
    await _verifier_unicite(form, site_id, prefixe, service_id, file_id)
    form.errors.raise_if_any()
    try:
        async with write_transaction():
            await _verifier_unicite(form, site_id, prefixe, service_id, file_id)
            form.errors.raise_if_any()
            if file_id is None:
                row = FileAttente(site=site_id, **values)
                await row.save()
                return int(row.id)
            await FileAttente.update(values).where(FileAttente.id == file_id)
            return file_id
    except Exception as error:
        if not is_unique_violation(error):
            raise
        # Another manager saved the same prefix or service between our check and our write.
        await _verifier_unicite(form, site_id, prefixe, service_id, file_id)
        form.errors.raise_if_any()
        raise Invalid(fields={"prefixe": "Ce préfixe est déjà pris dans ce site."}) from error


async def _verifier_unicite(
    form: Form, site_id: int, prefixe: str, service_id: int | None, file_id: int | None
) -> None:
    """Adds the errors of a prefix or a service another queue of the site already has."""
    autres = FileAttente.select(FileAttente.prefixe, FileAttente.service).where(
        FileAttente.site == site_id
    )
    if file_id is not None:
        autres = autres.where(FileAttente.id != file_id)
    for autre in await autres:
        if autre["prefixe"] == prefixe:
            form.errors.add("prefixe", "Ce préfixe est déjà pris par une autre file de ce site.")
        if autre["service"] == service_id:
            form.errors.add("service", "Ce service a déjà sa file d'attente dans ce site.")


# Counters --------------------------------------------------------------------------------


async def guichets(principal: Principal, site_id: int) -> list[dict[str, Any]]:
    """The site's counters, inactive ones included, with who sits there now."""
    await site_gere(principal, site_id)
    return (
        await Guichet.select(
            Guichet.id,
            Guichet.nom,
            Guichet.actif,
            Guichet.agent.prenom.as_alias("agent_prenom"),
            Guichet.agent.nom.as_alias("agent_nom"),
        )
        .where(Guichet.site == site_id)
        .order_by(Guichet.nom)
    )


def _nom_guichet(form: Form) -> str:
    return form.text("nom", required=True, max_length=40, label="Le nom du guichet")


async def _nom_libre(form: Form, site_id: int, nom: str, guichet_id: int | None) -> None:
    meme = Guichet.select(Guichet.id).where(Guichet.site == site_id, Guichet.nom == nom)
    if guichet_id is not None:
        meme = meme.where(Guichet.id != guichet_id)
    if nom and await meme.first():
        form.errors.add("nom", NOM_PRIS)
    form.errors.raise_if_any()


async def guichet_du_site(site_id: int, guichet_id: int) -> dict[str, Any]:
    """The counter (id, nom) if it belongs to the site."""
    row = (
        await Guichet.select(Guichet.id, Guichet.nom)
        .where(Guichet.id == guichet_id, Guichet.site == site_id)
        .first()
    )
    if row is None:
        raise NotFound("Ce guichet n'existe pas.", code="guichet_inconnu")
    return row


async def creer_guichet(principal: Principal, site_id: int, form: Form) -> int:
    await site_gere(principal, site_id)
    nom = _nom_guichet(form)
    form.errors.raise_if_any()
    try:
        async with write_transaction():
            await _nom_libre(form, site_id, nom, None)
            row = Guichet(site=site_id, nom=nom)
            await row.save()
            return int(row.id)
    except Exception as error:
        if not is_unique_violation(error):
            raise
        raise Invalid(fields={"nom": NOM_PRIS}) from error


async def renommer_guichet(principal: Principal, site_id: int, guichet_id: int, form: Form) -> None:
    await site_gere(principal, site_id)
    await guichet_du_site(site_id, guichet_id)
    nom = _nom_guichet(form)
    form.errors.raise_if_any()
    try:
        async with write_transaction():
            await _nom_libre(form, site_id, nom, guichet_id)
            await Guichet.update({Guichet.nom: nom}).where(Guichet.id == guichet_id)
            return
    except Exception as error:
        if not is_unique_violation(error):
            raise
        raise Invalid(fields={"nom": NOM_PRIS}) from error


async def activer_guichet(
    principal: Principal, site_id: int, guichet_id: int, *, actif: bool
) -> None:
    """Deactivating closes the counter, unless someone is being served there."""
    await site_gere(principal, site_id)
    guichet = await guichet_du_site(site_id, guichet_id)
    async with write_transaction():
        if not actif:
            occupe = await Ticket.exists().where(
                Ticket.guichet == guichet_id,
                Ticket.statut.is_in([StatutTicket.appele, StatutTicket.en_cours]),
            )
            if occupe:
                raise Conflict(
                    f"Le guichet {guichet['nom']} reçoit quelqu'un : "
                    "désactivez-le quand son ticket sera terminé.",
                    code="guichet_occupe",
                )
        values: dict[Any, Any] = {Guichet.actif: actif}
        if not actif:
            values.update({Guichet.agent: None, Guichet.files: [], Guichet.ouvert_at: None})
        await Guichet.update(values).where(Guichet.id == guichet_id)


# The counter console ---------------------------------------------------------------------


async def sites_de_console(principal: Principal) -> list[dict[str, Any]]:
    """The active sites with an active queue where the agent may open a counter: their own
    sites, or every site of the territoire for its admins."""
    avec_file = FileAttente.select(FileAttente.site).where(FileAttente.actif.eq(True))
    query = Site.select(Site.id, Site.nom).where(
        Site.territoire == principal.territoire_id,
        Site.actif.eq(True),
        Site.id.is_in(avec_file),
    )
    if not principal.is_admin:
        if not principal.site_ids:
            return []
        query = query.where(Site.id.is_in(sorted(principal.site_ids)))
    return await query.order_by(Site.nom)


async def guichet_de(principal: Principal, site_id: int) -> dict[str, Any] | None:
    """The counter the agent has open at this site, if any."""
    return (
        await Guichet.select(Guichet.id, Guichet.nom, Guichet.files)
        .where(
            Guichet.site == site_id,
            Guichet.agent == principal.agent_id,
            Guichet.actif.eq(True),
        )
        .output(load_json=True)
        .first()
    )
