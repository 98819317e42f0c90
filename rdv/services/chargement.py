"""Loading what the slot engine needs for one motif: five queries, whatever the
number of sites, agents and days searched (two for a collective motif: its sessions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.postgres import PostgresEngine

from plateforme.db import engine
from plateforme.errors import NotFound
from rdv import creneaux
from rdv.tables import STATUTS_ACTIFS, Absence, Motif, PlageMotif, Rdv, RdvParticipant, StatutRdv
from sites.services.jours_feries import jours_feries
from sites.tables import Fermeture, Site, SiteService


@dataclass(frozen=True)
class MotifInfo:
    id: int
    nom: str
    service_id: int
    service_code: str
    service_nom: str
    territoire_id: int
    fuseau: str
    duree: timedelta
    reservable_en_ligne: bool
    collectif: bool
    capacite: int | None
    annulable_par_usager: bool
    deplacable_par_usager: bool
    delai_annulation: timedelta
    instructions: str
    canal: str
    regles: creneaux.MotifRegles


@dataclass
class Contexte:
    """Everything the engine reads for one motif over a window."""

    motif: MotifInfo
    plages: list[creneaux.PlageOuverture] = field(default_factory=list)
    absences: list[creneaux.Absence] = field(default_factory=list)
    occupations: list[creneaux.Occupation] = field(default_factory=list)
    jours_fermes: dict[int, set[date]] = field(default_factory=dict)
    # A collective motif's sessions: what the public may join instead of the plages.
    sessions: list[creneaux.Session] = field(default_factory=list)

    def libres(
        self, debut: datetime, fin: datetime, maintenant: datetime
    ) -> list[creneaux.Creneau]:
        if self.motif.collectif:
            return creneaux.sessions_ouvertes(
                self.sessions, self.motif.regles, debut, fin, maintenant
            )
        return creneaux.creneaux_libres(
            self.plages,
            self.absences,
            self.occupations,
            self.jours_fermes,
            self.motif.regles,
            debut,
            fin,
            maintenant,
            self.motif.fuseau,
        )

    def prochains(
        self, debut: datetime, fin: datetime, maintenant: datetime
    ) -> dict[int, creneaux.Creneau]:
        if self.motif.collectif:
            return creneaux.premier_par_site(self.libres(debut, fin, maintenant))
        return creneaux.prochain_creneau_par_site(
            self.plages,
            self.absences,
            self.occupations,
            self.jours_fermes,
            self.motif.regles,
            debut,
            fin,
            maintenant,
            self.motif.fuseau,
        )


_EPOCH_SQL = {
    "postgres": "CAST(EXTRACT(EPOCH FROM {}) AS BIGINT)",
    "sqlite": "CAST(strftime('%s', {}) AS INTEGER)",
}


async def _occupations(
    agents: list[int], debut: datetime, fin: datetime, sauf_rdv: int | None
) -> list[creneaux.Occupation]:
    """The agents' active rdvs in the window, as busy intervals.

    The instants come back from the database as epoch seconds: a search loads
    thousands of rdvs, and Piccolo's parsing of each timestamp into a row dict
    was most of the cost of "next availability" (bench/RESULTS.md).
    """
    epoch = _EPOCH_SQL["postgres" if isinstance(engine(), PostgresEngine) else "sqlite"]
    statuts = [str(s) for s in STATUTS_ACTIFS]
    sql = (
        f"SELECT agent, {epoch.format('debut')} AS d, {epoch.format('fin')} AS f FROM rdv"
        f" WHERE agent IN ({', '.join('{}' for _ in agents)})"
        f" AND statut IN ({', '.join('{}' for _ in statuts)})"
        " AND debut < {} AND fin > {}"
    )
    args: list[Any] = [*agents, *statuts, fin, debut]
    if sauf_rdv is not None:
        # Moving an rdv: its own time does not stand in its way.
        sql += " AND id != {}"
        args.append(sauf_rdv)
    rows = await Rdv.raw(sql, *args)
    instant = datetime.fromtimestamp
    return [
        creneaux.Occupation(
            agent_id=row["agent"], debut=instant(row["d"], UTC), fin=instant(row["f"], UTC)
        )
        for row in rows
    ]


async def motif_info(motif_id: int, *, actifs_seulement: bool = True) -> MotifInfo:
    query = Motif.select(
        *Motif.all_columns(),
        Motif.service.nom.as_alias("service_nom"),
        Motif.service.code.as_alias("service_code"),
        Motif.service.territoire.id.as_alias("territoire_id"),
        Motif.service.territoire.fuseau_horaire.as_alias("fuseau"),
    ).where(Motif.id == motif_id)
    if actifs_seulement:
        # A motif withdrawn from booking still describes the rdvs already booked.
        query = query.where(Motif.actif.eq(True))
    row = await query.first()
    if row is None:
        raise NotFound("Ce motif n'existe pas.", code="motif_inconnu")
    duree = timedelta(minutes=row["duree_minutes"])
    return MotifInfo(
        id=row["id"],
        nom=row["nom"],
        service_id=row["service"],
        service_code=row["service_code"],
        service_nom=row["service_nom"],
        territoire_id=row["territoire_id"],
        fuseau=row["fuseau"],
        duree=duree,
        reservable_en_ligne=row["reservable_en_ligne"],
        collectif=row["collectif"],
        capacite=row["capacite"],
        annulable_par_usager=row["annulable_par_usager"],
        deplacable_par_usager=row["deplacable_par_usager"],
        delai_annulation=timedelta(hours=row["delai_annulation_heures"]),
        instructions=row["instructions"],
        canal=row["canal"],
        regles=creneaux.MotifRegles(
            id=row["id"],
            duree=duree,
            delai_min=timedelta(minutes=row["delai_min_minutes"]),
            delai_max=timedelta(days=row["delai_max_jours"]),
            accoler=row["accoler"],
        ),
    )


async def site_du_motif(motif: MotifInfo, site_id: int) -> dict[str, Any]:
    """The site, if active, of the motif's territoire and offering its service; else 404."""
    site = (
        await Site.select(Site.id, Site.nom, Site.adresse)
        .where(Site.id == site_id, Site.actif.eq(True), Site.territoire == motif.territoire_id)
        .first()
    )
    if site is None or not await SiteService.exists().where(
        SiteService.site == site_id, SiteService.service == motif.service_id
    ):
        raise NotFound("Ce lieu ne propose pas ce motif.", code="site_inconnu")
    return site


async def sessions(
    motif: MotifInfo,
    *,
    debut: datetime,
    fin: datetime,
    site_ids: Collection[int] | None = None,
    agent_ids: Collection[int] | None = None,
) -> list[creneaux.Session]:
    """The motif's collective sessions still to come that start in [debut, fin), with the
    number of their active participants (full ones too: the engine leaves them out)."""
    query = Rdv.select(Rdv.id, Rdv.agent, Rdv.site, Rdv.debut, Rdv.fin, Rdv.capacite).where(
        Rdv.motif == motif.id,
        Rdv.collectif.eq(True),
        Rdv.capacite.is_not_null(),
        Rdv.statut == StatutRdv.a_venir,
        Rdv.debut >= debut,
        Rdv.debut < fin,
    )
    if site_ids is not None:
        query = query.where(Rdv.site.is_in(list(site_ids) or [-1]))
    if agent_ids is not None:
        query = query.where(Rdv.agent.is_in(list(agent_ids) or [-1]))
    rows = await query
    if not rows:
        return []
    inscrits: dict[int, int] = defaultdict(int)
    for participant in await RdvParticipant.select(RdvParticipant.rdv).where(
        RdvParticipant.rdv.is_in([r["id"] for r in rows]),
        RdvParticipant.statut.is_in([str(s) for s in STATUTS_ACTIFS]),
    ):
        inscrits[participant["rdv"]] += 1
    return [
        creneaux.Session(
            rdv_id=r["id"],
            agent_id=r["agent"],
            site_id=r["site"],
            debut=r["debut"],
            fin=r["fin"],
            capacite=r["capacite"],
            inscrits=inscrits[r["id"]],
        )
        for r in rows
    ]


async def charger(
    motif: MotifInfo,
    *,
    debut: datetime,
    fin: datetime,
    site_ids: Collection[int] | None = None,
    agent_ids: Collection[int] | None = None,
    sauf_rdv: int | None = None,
) -> Contexte:
    """The plages, absences, rdvs, closures and holidays bearing on `motif` in [debut, fin);
    for a collective motif, its sessions only: agents open them where they want."""
    contexte = Contexte(motif=motif)
    if motif.collectif:
        contexte.sessions = await sessions(
            motif, debut=debut, fin=fin, site_ids=site_ids, agent_ids=agent_ids
        )
        return contexte
    zone = ZoneInfo(motif.fuseau)
    premier_jour = debut.astimezone(zone).date() - timedelta(days=1)
    dernier_jour = fin.astimezone(zone).date() + timedelta(days=1)

    plage = PlageMotif.plage
    query = PlageMotif.select(
        plage.id.as_alias("id"),
        plage.agent.id.as_alias("agent_id"),
        plage.site.id.as_alias("site_id"),
        plage.heure_debut.as_alias("heure_debut"),
        plage.heure_fin.as_alias("heure_fin"),
        plage.premier_jour.as_alias("premier_jour"),
        plage.rrule.as_alias("rrule"),
        plage.fin.as_alias("fin"),
        plage.site.commune.departement.as_alias("departement"),
    ).where(
        PlageMotif.motif == motif.id,
        plage.site.actif.eq(True),
        plage.agent.actif.eq(True),
        plage.premier_jour <= dernier_jour,
        (plage.fin.is_null()) | (plage.fin >= premier_jour),
    )
    if site_ids is not None:
        query = query.where(plage.site.id.is_in(list(site_ids) or [-1]))
    if agent_ids is not None:
        query = query.where(plage.agent.id.is_in(list(agent_ids) or [-1]))
    rows = await query
    if not rows:
        return contexte
    departements: dict[int, str] = {}
    for row in rows:
        contexte.plages.append(
            creneaux.PlageOuverture(
                id=row["id"],
                agent_id=row["agent_id"],
                site_id=row["site_id"],
                motif_ids=frozenset({motif.id}),
                heure_debut=row["heure_debut"],
                heure_fin=row["heure_fin"],
                premier_jour=row["premier_jour"],
                rrule=row["rrule"],
                fin=row["fin"],
            )
        )
        departements[row["site_id"]] = row["departement"]
    agents = sorted({p.agent_id for p in contexte.plages})
    sites = sorted(departements)

    absences = await Absence.select(Absence.agent, Absence.debut, Absence.fin, Absence.rrule).where(
        Absence.agent.is_in(agents),
        (Absence.rrule.is_not_null()) | ((Absence.debut < fin) & (Absence.fin > debut)),
        Absence.debut < fin,
    )
    contexte.absences = [
        creneaux.Absence(agent_id=a["agent"], debut=a["debut"], fin=a["fin"], rrule=a["rrule"])
        for a in absences
    ]

    contexte.occupations = await _occupations(agents, debut, fin, sauf_rdv)

    fermetures = await Fermeture.select(Fermeture.site, Fermeture.debut, Fermeture.fin).where(
        Fermeture.site.is_in(sites), Fermeture.debut <= dernier_jour, Fermeture.fin >= premier_jour
    )
    fermes: dict[int, set[date]] = defaultdict(set)
    for fermeture in fermetures:
        jour = max(fermeture["debut"], premier_jour)
        while jour <= min(fermeture["fin"], dernier_jour):
            fermes[fermeture["site"]].add(jour)
            jour += timedelta(days=1)
    annees = range(premier_jour.year, dernier_jour.year + 1)
    for site_id, departement in departements.items():
        fermes[site_id].update(jours_feries(departement, annees))
    contexte.jours_fermes = dict(fermes)
    return contexte
