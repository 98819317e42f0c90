"""Demo queues: every centre and antenne of the demo territoires gets a queue per service it
offers and three counters, once. Kiosks and screens are paired by hand (README)."""

from __future__ import annotations

import string
from collections import defaultdict
from dataclasses import dataclass

from file_attente.tables import FileAttente, Guichet
from plateforme.db import write_transaction
from sites.services.demo import HAUTE_GARONNE, HAUTS_DE_FRANCE
from sites.tables import Site, SiteService

GUICHETS = ("1", "2", "3")


@dataclass
class DemoFilesReport:
    files: int = 0
    guichets: int = 0


async def seed_demo_files() -> DemoFilesReport:
    report = DemoFilesReport()
    async with write_transaction():
        sites = await Site.select(Site.id).where(
            Site.kind.is_in(["centre", "antenne"]),
            Site.territoire.nom.is_in([HAUTE_GARONNE, HAUTS_DE_FRANCE]),
        )
        ids = [s["id"] for s in sites]
        if not ids:
            return report
        done = {
            r["site"]
            for r in await FileAttente.select(FileAttente.site).where(FileAttente.site.is_in(ids))
        }
        services: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for row in (
            await SiteService.select(
                SiteService.site, SiteService.service, SiteService.service.nom.as_alias("nom")
            )
            .where(SiteService.site.is_in(ids))
            .order_by(SiteService.service)
        ):
            services[row["site"]].append((row["service"], row["nom"]))
        for site_id in ids:
            if site_id in done or not services[site_id]:
                continue
            for prefixe, (service_id, nom) in zip(
                string.ascii_uppercase, services[site_id], strict=False
            ):
                await FileAttente(site=site_id, service=service_id, nom=nom, prefixe=prefixe).save()
                report.files += 1
            for nom in GUICHETS:
                await Guichet(site=site_id, nom=nom).save()
                report.guichets += 1
    return report
