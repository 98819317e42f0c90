"""The demo's motifs and plages d'ouverture, so that a citizen can book right after `make run`.

Runs after the sites demo (`sites.services.demo.seed_demo`), in one write
transaction, and only once: a territoire that already has motifs is left as it
is. Centre and antenne agents receive on weekdays; permanence agents hold one
half-day a week in each of their town halls, on a day that rotates between
town halls so that a commune is not served on the same day by everyone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time

from plateforme.db import write_transaction
from rdv.tables import Canal, Motif, PlageMotif, PlageOuverture
from sites.services.demo import HAUTE_GARONNE, HAUTS_DE_FRANCE
from sites.tables import AgentService, AgentSite, Service

# (service code, nom, minutes, canal, bookable online)
MOTIFS = (
    ("pmi", "Consultation de nourrisson", 30, Canal.sur_place, True),
    ("pmi", "Consultation prénatale", 45, Canal.sur_place, True),
    ("pmi", "Visite à domicile", 60, Canal.domicile, False),
    ("social", "Premier accueil social", 45, Canal.sur_place, True),
    ("social", "Aide aux démarches administratives", 30, Canal.sur_place, True),
    ("social", "Entretien téléphonique", 20, Canal.telephone, True),
    ("antenne", "Aide aux transports scolaires", 20, Canal.sur_place, True),
    ("antenne", "Aide régionale à la mobilité (permis, véhicule)", 30, Canal.sur_place, True),
)
# Collective motifs (service code, nom, minutes, seats a session): agents open their
# sessions from the agenda, so no plage offers them.
ATELIERS = (("pmi", "Atelier massage bébé", 90, 8),)
INSTRUCTIONS = {
    "pmi": "Apportez le carnet de santé de l'enfant.",
    "social": "Apportez une pièce d'identité et vos derniers justificatifs de ressources.",
    "antenne": "Apportez une pièce d'identité et un justificatif de domicile.",
}
SEMAINE = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
JOURS_RRULE = ("MO", "TU", "WE", "TH", "FR")
MATIN = (time(9, 0), time(12, 0))
APRES_MIDI = (time(13, 30), time(16, 30))


@dataclass
class DemoRdvReport:
    motifs: int = 0
    plages: int = 0


async def seed_demo_rdv(premier_jour: date | None = None) -> DemoRdvReport:
    """Motifs for every demo service and plages for every demo agent, once."""
    premier_jour = premier_jour or date.today()
    report = DemoRdvReport()
    async with write_transaction():
        services = await Service.select(Service.id, Service.code).where(
            Service.code.is_in(sorted({code for code, *_ in MOTIFS})),
            Service.territoire.nom.is_in([HAUTE_GARONNE, HAUTS_DE_FRANCE]),
        )
        already = {
            row["service"]
            for row in await Motif.select(Motif.service).where(
                Motif.service.is_in([s["id"] for s in services] or [-1])
            )
        }
        fresh = [s for s in services if s["id"] not in already]
        if not fresh:
            return report
        motifs_par_service: dict[int, list[int]] = defaultdict(list)
        for service in fresh:
            for code, nom, minutes, canal, en_ligne in MOTIFS:
                if code != service["code"]:
                    continue
                motif = Motif(
                    service=service["id"],
                    nom=nom,
                    duree_minutes=minutes,
                    canal=canal,
                    reservable_en_ligne=en_ligne,
                    delai_min_minutes=60,
                    delai_max_jours=60,
                    instructions=INSTRUCTIONS[code],
                )
                await motif.save()
                motifs_par_service[service["id"]].append(int(motif.id))
                report.motifs += 1
            for code, nom, minutes, capacite in ATELIERS:
                if code != service["code"]:
                    continue
                await Motif(
                    service=service["id"],
                    nom=nom,
                    duree_minutes=minutes,
                    collectif=True,
                    capacite=capacite,
                    delai_min_minutes=60,
                    delai_max_jours=60,
                    instructions=INSTRUCTIONS[code],
                ).save()
                report.motifs += 1
        report.plages = await _plages(motifs_par_service, premier_jour)
    return report


async def _plages(motifs_par_service: dict[int, list[int]], premier_jour: date) -> int:
    services_par_agent: dict[int, set[int]] = defaultdict(set)
    for row in await AgentService.select(AgentService.agent, AgentService.service).where(
        AgentService.service.is_in(list(motifs_par_service))
    ):
        services_par_agent[row["agent"]].add(row["service"])
    sites_par_agent: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for row in (
        await AgentSite.select(
            AgentSite.agent, AgentSite.site, AgentSite.site.kind.as_alias("kind")
        )
        .where(AgentSite.agent.is_in(list(services_par_agent) or [-1]))
        .order_by(AgentSite.site)
    ):
        sites_par_agent[row["agent"]].append((row["site"], row["kind"]))
    created = 0
    for agent_id in sorted(sites_par_agent):
        motifs = [m for s in sorted(services_par_agent[agent_id]) for m in motifs_par_service[s]]
        for rang, (site_id, kind) in enumerate(sites_par_agent[agent_id]):
            if kind == "permanence":
                # One morning a week in each town hall, on a rotating day.
                jour = JOURS_RRULE[(site_id + rang) % len(JOURS_RRULE)]
                fenetres = [(MATIN, f"FREQ=WEEKLY;BYDAY={jour}")]
            else:
                fenetres = [(MATIN, SEMAINE), (APRES_MIDI, SEMAINE)]
            for (debut, fin), rrule in fenetres:
                plage = PlageOuverture(
                    agent=agent_id,
                    site=site_id,
                    titre="Démo",
                    heure_debut=debut,
                    heure_fin=fin,
                    premier_jour=premier_jour,
                    rrule=rrule,
                )
                await plage.save()
                await PlageMotif.insert(*(PlageMotif(plage=plage.id, motif=m) for m in motifs))
                created += 1
    return created
