"""Plages d'ouverture and absences of an agent, typed with simple fields and stored as RRULEs.

A plage's recurrence is chosen with days of the week and "every week / every
two weeks", which become "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"; a rule this
form cannot show (one made by an import) is kept unless the agent picks days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from plateforme.auth import Principal
from plateforme.db import lecture, write_transaction
from plateforme.errors import Forbidden, NotFound
from rdv.creneaux import RegleInvalide, verifier_regle
from rdv.services._agenda_acces import (
    AgentAgenda,
    agent_cible,
    aujourd_hui,
    bornes_utc,
    fuseau,
    lire_choix,
    lire_heure,
    motifs_et_sites,
    sites_gerables,
)
from rdv.tables import Absence, PlageMotif, PlageOuverture
from sites.services.forms import Form
from sites.tables import SiteService

JOURS_RRULE = (
    ("MO", "Lundi"),
    ("TU", "Mardi"),
    ("WE", "Mercredi"),
    ("TH", "Jeudi"),
    ("FR", "Vendredi"),
    ("SA", "Samedi"),
    ("SU", "Dimanche"),
)
FREQUENCES = (("1", "Toutes les semaines"), ("2", "Toutes les 2 semaines"))
GARDER = "garder"
_JOURS = dict(JOURS_RRULE)


@dataclass(frozen=True)
class Recurrence:
    """A rule as the form shows it; `jours` empty when the form cannot show it."""

    jours: tuple[str, ...]
    frequence: str
    libelle: str


def recurrence(rrule: str | None) -> Recurrence:
    """Days and frequency of a weekly rule, or the rule as it is with a plain label."""
    if rrule is None:
        return Recurrence((), GARDER, "Une seule fois")
    parties = dict(p.partition("=")[::2] for p in rrule.upper().split(";"))
    interval = parties.get("INTERVAL", "1")
    jours = tuple(j for j, _ in JOURS_RRULE if j in parties.get("BYDAY", "").split(","))
    simple = (
        parties.get("FREQ") == "WEEKLY"
        and set(parties) <= {"FREQ", "INTERVAL", "BYDAY", "WKST"}
        and parties.get("WKST", "MO") == "MO"
        and interval in ("1", "2")
        and jours
        and len(jours) == len(parties["BYDAY"].split(","))
    )
    if not simple:
        return Recurrence((), GARDER, f"Règle {rrule}")
    frequence = dict(FREQUENCES)[interval]
    return Recurrence(
        jours, interval, f"{frequence} : {', '.join(_JOURS[j].lower() for j in jours)}"
    )


def regle_hebdomadaire(jours: list[str] | tuple[str, ...], frequence: str) -> str:
    """ "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH" (no INTERVAL for every week)."""
    ordre = [j for j, _ in JOURS_RRULE if j in jours]
    interval = "" if frequence == "1" else f";INTERVAL={frequence}"
    return f"FREQ=WEEKLY{interval};BYDAY={','.join(ordre)}"


# Plages --------------------------------------------------------------------


async def plages(
    principal: Principal, agent_id: int | None
) -> tuple[AgentAgenda, list[dict[str, Any]]]:
    """The agent's plages, the latest first, each with its motifs and whether one may edit it."""
    async with lecture():
        cible = await agent_cible(principal, agent_id)
        rows = (
            await PlageOuverture.select(
                *PlageOuverture.all_columns(), PlageOuverture.site.nom.as_alias("site_nom")
            )
            .where(PlageOuverture.agent == cible.id)
            .order_by(PlageOuverture.premier_jour, ascending=False)
            .order_by(PlageOuverture.id, ascending=False)
        )
        motifs = await _motifs_des_plages([r["id"] for r in rows])
    gerables = sites_gerables(principal, cible)
    for row in rows:
        row["motifs"] = [nom for _, nom in motifs.get(row["id"], [])]
        row["recurrence"] = recurrence(row["rrule"]).libelle
        row["modifiable"] = row["site"] in gerables
    return cible, rows


async def _motifs_des_plages(ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    result: dict[int, list[tuple[int, str]]] = {}
    if not ids:
        return result
    rows = (
        await PlageMotif.select(
            PlageMotif.plage, PlageMotif.motif, PlageMotif.motif.nom.as_alias("nom")
        )
        .where(PlageMotif.plage.is_in(ids))
        .order_by(PlageMotif.motif.nom)
    )
    for row in rows:
        result.setdefault(row["plage"], []).append((row["motif"], row["nom"]))
    return result


async def plage(principal: Principal, plage_id: int) -> tuple[AgentAgenda, dict[str, Any]]:
    """A plage the principal may edit, as form values; 404 outside their territoire."""
    row = (
        await PlageOuverture.select(
            *PlageOuverture.all_columns(), PlageOuverture.agent.territoire.as_alias("territoire")
        )
        .where(PlageOuverture.id == plage_id)
        .first()
    )
    if row is None or row["territoire"] != principal.territoire_id:
        raise NotFound("Cette plage d'ouverture n'existe pas.", code="plage_introuvable")
    cible = await agent_cible(principal, row["agent"])
    if row["site"] not in sites_gerables(principal, cible):
        raise Forbidden("Vous ne pouvez pas modifier cette plage d'ouverture.")
    regle = recurrence(row["rrule"])
    motifs = await _motifs_des_plages([plage_id])
    values = {
        "titre": row["titre"],
        "site": str(row["site"]),
        "motifs": {m for m, _ in motifs.get(plage_id, [])},
        "heure_debut": row["heure_debut"].strftime("%H:%M"),
        "heure_fin": row["heure_fin"].strftime("%H:%M"),
        "premier_jour": row["premier_jour"].isoformat(),
        "fin": row["fin"].isoformat() if row["fin"] else "",
        "jours": set(regle.jours),
        "frequence": regle.frequence,
        "regle_actuelle": row["rrule"] if regle.frequence == GARDER else None,
        "regle_libelle": regle.libelle,
    }
    return cible, values


async def enregistrer_plage(
    principal: Principal, cible: AgentAgenda, form: Form, plage_id: int | None = None
) -> int:
    """Create or replace a plage from the form; Invalid lists every bad field."""
    motifs, sites = await motifs_et_sites(principal, cible)
    site_id = lire_choix(form, "site", {s["id"] for s in sites}, "Choisissez un site.")
    motif_ids = form.ids("motifs")
    connus = {m["id"]: m for m in motifs}
    if not motif_ids:
        form.errors.add("motifs", "Cochez au moins un motif.")
    elif not motif_ids <= set(connus):
        form.errors.add("motifs", "Choix invalide.")
    titre = form.text("titre", max_length=150)
    debut = lire_heure(form, "heure_debut", label="Heure de début")
    fin = lire_heure(form, "heure_fin", label="Heure de fin")
    if debut is not None and fin is not None and fin <= debut:
        form.errors.add("heure_fin", "L'heure de fin doit être après l'heure de début.")
    premier_jour = form.day("premier_jour", label="Premier jour")
    dernier_jour: date | None = None
    if form.text("fin"):
        dernier_jour = form.day("fin", label="Dernier jour")
        if premier_jour and dernier_jour and dernier_jour < premier_jour:
            form.errors.add("fin", "Le dernier jour doit être après le premier jour.")
    zone = await fuseau(principal)
    rrule = await _regle_du_formulaire(form, plage_id, zone)
    if site_id is not None and motif_ids and motif_ids <= set(connus):
        offerts = {
            r["service"]
            for r in await SiteService.select(SiteService.service).where(
                SiteService.site == site_id
            )
        }
        absents = sorted(connus[m]["nom"] for m in motif_ids if connus[m]["service"] not in offerts)
        if absents:
            form.errors.add("motifs", f"Ce site ne propose pas : {', '.join(absents)}.")
    form.errors.raise_if_any()
    assert site_id is not None and debut is not None and fin is not None
    assert premier_jour is not None
    values: dict[Any, Any] = {
        PlageOuverture.agent: cible.id,
        PlageOuverture.site: site_id,
        PlageOuverture.titre: titre,
        PlageOuverture.heure_debut: debut,
        PlageOuverture.heure_fin: fin,
        PlageOuverture.premier_jour: premier_jour,
        PlageOuverture.fin: dernier_jour,
        PlageOuverture.rrule: rrule,
    }
    async with write_transaction():
        if plage_id is None:
            row = PlageOuverture(values)
            await row.save()
            plage_id = int(row.id)
        else:
            await PlageOuverture.update(values).where(PlageOuverture.id == plage_id)
            await PlageMotif.delete().where(PlageMotif.plage == plage_id)
        for motif_id in sorted(motif_ids):
            await PlageMotif(plage=plage_id, motif=motif_id).save()
    return plage_id


async def _regle_du_formulaire(form: Form, plage_id: int | None, zone: str) -> str | None:
    frequence = form.text("frequence")
    jours = [j for j in form.lists.get("jours", []) if j in _JOURS]
    if frequence == GARDER and plage_id is not None and not jours:
        row = (
            await PlageOuverture.select(PlageOuverture.rrule)
            .where(PlageOuverture.id == plage_id)
            .first()
        )
        return row["rrule"] if row else None
    if frequence not in dict(FREQUENCES):
        form.errors.add("frequence", "Choisissez une fréquence.")
    if not jours:
        form.errors.add("jours", "Cochez au moins un jour.")
    if form.errors.errors.keys() & {"frequence", "jours"}:
        return None
    rrule = regle_hebdomadaire(jours, frequence)
    try:
        verifier_regle(rrule, zone)
    except RegleInvalide as error:
        form.errors.add("jours", str(error).capitalize())
    return rrule


async def supprimer_plage(principal: Principal, plage_id: int) -> int:
    """Delete a plage (rdvs already booked stay); returns its agent."""
    cible, _ = await plage(principal, plage_id)
    async with write_transaction():
        await PlageMotif.delete().where(PlageMotif.plage == plage_id)
        await PlageOuverture.delete().where(PlageOuverture.id == plage_id)
    return cible.id


# Absences ------------------------------------------------------------------


async def absences(
    principal: Principal, agent_id: int | None
) -> tuple[AgentAgenda, list[dict[str, Any]]]:
    """The agent's absences that are not over, and every recurring one, in local time."""
    async with lecture():
        cible = await agent_cible(principal, agent_id)
        zone = await fuseau(principal)
        debut_du_jour, _ = bornes_utc(aujourd_hui(zone), 1, zone)
        rows = (
            await Absence.select()
            .where(
                Absence.agent == cible.id,
                (Absence.fin >= debut_du_jour) | Absence.rrule.is_not_null(),
            )
            .order_by(Absence.debut)
        )
    tz = ZoneInfo(zone)
    for row in rows:
        row["debut"] = row["debut"].astimezone(tz)
        row["fin"] = row["fin"].astimezone(tz)
        row["recurrence"] = _libelle_absence(row["rrule"], row["debut"])
    return cible, rows


def _libelle_absence(rrule: str | None, debut: datetime) -> str:
    if rrule is None:
        return "Une seule fois"
    jour = _JOURS[("MO", "TU", "WE", "TH", "FR", "SA", "SU")[debut.weekday()]].lower()
    parties = dict(p.partition("=")[::2] for p in rrule.upper().split(";"))
    if set(parties) <= {"FREQ", "UNTIL"} and parties.get("FREQ") == "WEEKLY":
        until = parties.get("UNTIL", "")
        if len(until) >= 8 and until[:8].isdigit():
            return f"Chaque {jour}, jusqu'au {until[6:8]}/{until[4:6]}/{until[:4]}"
        return f"Chaque {jour}"
    return f"Règle {rrule}"


def _instant(form: Form, prefixe: str, label: str, zone: str) -> datetime | None:
    jour = form.day(f"{prefixe}_jour", label=label)
    heure = lire_heure(form, f"{prefixe}_heure", label=label)
    if jour is None or heure is None:
        return None
    return datetime.combine(jour, heure, tzinfo=ZoneInfo(zone))


async def enregistrer_absence(principal: Principal, cible: AgentAgenda, form: Form) -> int:
    """Create an absence from local dates and times, optionally every week until a day."""
    zone = await fuseau(principal)
    titre = form.text("titre", max_length=150)
    debut = _instant(form, "debut", "Début", zone)
    fin = _instant(form, "fin", "Fin", zone)
    if debut is not None and fin is not None and fin <= debut:
        form.errors.add("fin_jour", "La fin doit être après le début.")
    rrule: str | None = None
    if form.checked("hebdomadaire"):
        rrule = "FREQ=WEEKLY"
        if debut is not None and fin is not None and fin - debut >= timedelta(days=7):
            form.errors.add("fin_jour", "Une absence répétée chaque semaine dure moins de 7 jours.")
        if form.text("jusqu_au"):
            jusqu_au = form.day("jusqu_au", label="Jusqu'au")
            if jusqu_au is not None and debut is not None and jusqu_au < debut.date():
                form.errors.add("jusqu_au", "Ce jour est avant le début de l'absence.")
            elif jusqu_au is not None:
                rrule += f";UNTIL={jusqu_au:%Y%m%d}"
        try:
            verifier_regle(rrule, zone)
        except RegleInvalide as error:
            form.errors.add("hebdomadaire", str(error).capitalize())
    form.errors.raise_if_any()
    assert debut is not None and fin is not None
    async with write_transaction():
        row = Absence(agent=cible.id, titre=titre, debut=debut, fin=fin, rrule=rrule)
        await row.save()
    return int(row.id)


async def supprimer_absence(principal: Principal, absence_id: int) -> int:
    """Delete an absence of an agent the principal manages; returns the agent."""
    row = (
        await Absence.select(Absence.agent, Absence.agent.territoire.as_alias("territoire"))
        .where(Absence.id == absence_id)
        .first()
    )
    if row is None or row["territoire"] != principal.territoire_id:
        raise NotFound("Cette absence n'existe pas.", code="absence_introuvable")
    cible = await agent_cible(principal, row["agent"])
    async with write_transaction():
        await Absence.delete().where(Absence.id == absence_id)
    return cible.id
