"""What screens, kiosks and counter consoles read first, before applying live events.

`etat_public` is what a display or a kiosk may see (invariant 4): queue names,
ticket codes, counter names, counts and times, never a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from file_attente import estimation
from file_attente.services import lieux, tickets
from file_attente.tables import FileAttente, Guichet, StatutTicket, Ticket
from plateforme.db import lecture

DERNIERS_APPELS = 8


async def files_du_site(site_id: int) -> list[dict[str, Any]]:
    return (
        await FileAttente.select(
            FileAttente.id,
            FileAttente.nom,
            FileAttente.prefixe,
            FileAttente.horaires,
            FileAttente.service,
        )
        .where(FileAttente.site == site_id, FileAttente.actif.eq(True))
        .order_by(FileAttente.prefixe)
        .output(load_json=True)
    )


def _heures(plages: Any) -> str:
    if plages is None:
        return "Horaires non communiqués"
    if not plages:
        return "Fermé aujourd'hui"
    return ", ".join(f"{d:%H:%M}–{f:%H:%M}" for d, f in plages)


async def etat_public(site_id: int, maintenant: datetime | None = None) -> dict[str, Any]:
    maintenant = maintenant or lieux.utc_now()
    # Every read from one snapshot: one SQLite connection, not two.
    async with lecture():
        site = await lieux.site_info(site_id)
        jour = site.jour(maintenant)
        local = site.maintenant_local(maintenant)
        files = await files_du_site(site_id)
        compte = await tickets.en_attente_par_file(site_id, jour)
        guichets = await tickets.guichets_ouverts(site_id)
        closures = await lieux.fermetures(site_id, jour)
        appels = (
            await Ticket.select(
                Ticket.code, Ticket.appele_at, Ticket.guichet.nom.as_alias("guichet")
            )
            .where(
                Ticket.file_actuelle.site == site_id,
                Ticket.jour == jour,
                Ticket.appele_at.is_not_null(),
            )
            .order_by(Ticket.appele_at, ascending=False)
            .limit(DERNIERS_APPELS)
        )
        durees = {f["id"]: await tickets.durees_recentes(f["id"], maintenant) for f in files}
    result_files = []
    for file in files:
        plages = lieux.plages_du_jour(
            site, lieux.horaires_file(site, file["horaires"]), closures, maintenant
        )
        attente = compte.get(file["id"], 0)
        ouverts = tickets.ouverts_pour(guichets, file["id"])
        result_files.append(
            {
                "id": file["id"],
                "nom": file["nom"],
                "prefixe": file["prefixe"],
                "en_attente": attente,
                "guichets_ouverts": ouverts,
                # The wait of someone who takes a ticket now.
                "attente_minutes": estimation.attente_minutes(
                    attente, estimation.duree_service(durees[file["id"]]), ouverts
                ),
                "ouverte": lieux.est_ouverte(plages, local),
                "horaires": _heures(plages),
            }
        )
    return {
        "type": "etat",
        "site": site_id,
        "site_nom": site.nom,
        "at": maintenant.isoformat(),
        "files": result_files,
        "appels": [
            {"ticket": a["code"], "guichet": a["guichet"], "at": a["appele_at"].isoformat()}
            for a in appels
        ],
    }


async def etat_console(site_id: int, maintenant: datetime | None = None) -> dict[str, Any]:
    """The counters and waiting tickets of a site, for its agents (the caller checks who)."""
    maintenant = maintenant or lieux.utc_now()
    site = await lieux.site_info(site_id)
    jour = site.jour(maintenant)
    async with lecture():
        files = await files_du_site(site_id)
        guichets = (
            await Guichet.select(
                Guichet.id,
                Guichet.nom,
                Guichet.files,
                Guichet.agent.id.as_alias("agent_id"),
                Guichet.agent.prenom.as_alias("agent_prenom"),
                Guichet.agent.nom.as_alias("agent_nom"),
            )
            .where(Guichet.site == site_id, Guichet.actif.eq(True))
            .order_by(Guichet.nom)
            .output(load_json=True)
        )
        ouverts = await Ticket.select(
            Ticket.id,
            Ticket.code,
            Ticket.statut,
            Ticket.priorite,
            Ticket.origine,
            Ticket.emis_at,
            Ticket.rang_at,
            Ticket.appele_at,
            Ticket.appels,
            Ticket.file_actuelle.as_alias("file"),
            Ticket.guichet.as_alias("guichet"),
            Ticket.rdv.debut.as_alias("rdv_debut"),
        ).where(
            Ticket.file_actuelle.site == site_id,
            Ticket.jour == jour,
            Ticket.statut.is_in(
                [StatutTicket.en_attente, StatutTicket.appele, StatutTicket.en_cours]
            ),
        )
    ouverts.sort(key=lambda t: (-t["priorite"], t["rang_at"], t["id"]))
    for ticket in ouverts:
        for key in ("emis_at", "rang_at", "appele_at", "rdv_debut"):
            if ticket[key] is not None:
                ticket[key] = ticket[key].isoformat()
        ticket["attente_minutes"] = max(
            0, int((maintenant - datetime.fromisoformat(ticket["emis_at"])).total_seconds() // 60)
        )
    return {
        "site": site_id,
        "site_nom": site.nom,
        "files": [{"id": f["id"], "nom": f["nom"], "prefixe": f["prefixe"]} for f in files],
        "guichets": guichets,
        "tickets": ouverts,
    }
