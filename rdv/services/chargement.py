"""Loading what the slot engine needs for one motif: five queries, whatever the
number of sites, agents and days searched (two for a collective motif: its sessions)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.postgres import PostgresEngine

from plateforme.db import engine, lignes, marques
from plateforme.errors import NotFound
from rdv import creneaux
from rdv.tables import STATUTS_ACTIFS, Rdv, RdvParticipant, StatutRdv
from sites.services.jours_feries import jours_feries


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
    occupations: creneaux.Occupations = field(default_factory=lambda: creneaux.Occupations({}))
    jours_fermes: dict[int, set[date]] = field(default_factory=dict)
    # A collective motif's sessions: what the public may join instead of the plages.
    sessions: list[creneaux.Session] = field(default_factory=list)
    # Moving an rdv: its own time does not stand in its way (plus_loin loads without it too).
    sauf_rdv: int | None = None

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

    async def plus_loin(
        self, site_ids: Collection[int], debut: datetime, fin: datetime
    ) -> Contexte:
        """The same plages, absences, closed days (or sessions) of these sites only, with
        the rdvs of their agents in [debut, fin) in place of those loaded: a search that
        found nothing near enough at these sites looks further without loading the rest
        again. This context must have been loaded with `fin` at or after this `fin`."""
        sites = set(site_ids)
        suite = Contexte(
            motif=self.motif,
            plages=[p for p in self.plages if p.site_id in sites],
            absences=self.absences,
            jours_fermes=self.jours_fermes,
            sessions=[s for s in self.sessions if s.site_id in sites],
            sauf_rdv=self.sauf_rdv,
        )
        if suite.plages:
            agents = sorted({p.agent_id for p in suite.plages})
            suite.occupations = await _occupations(agents, debut, fin, self.sauf_rdv)
        return suite


_EPOCH_SQL = {
    "postgres": "CAST(EXTRACT(EPOCH FROM {}) AS BIGINT)",
    # unixepoch() reads the stored text a quarter faster (SQLite 3.38 and later).
    "sqlite": "unixepoch({})"
    if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', {}) AS INTEGER)",
}
_CONCAT_SQL = {"postgres": "string_agg({}, ',')", "sqlite": "group_concat({}, ',')"}


async def _occupations(
    agents: list[int], debut: datetime, fin: datetime, sauf_rdv: int | None
) -> creneaux.Occupations:
    """The agents' active rdvs in the window, as busy intervals in epoch seconds.

    One row per agent, its instants as integers in one text: a search loads
    thousands of rdvs, and a Piccolo row dict and datetimes per rdv were most of
    the cost of "next availability", then the garbage collector walking the
    heap for the tuples of the rows (bench/RESULTS.md).
    """
    moteur = "postgres" if isinstance(engine(), PostgresEngine) else "sqlite"
    epoch = _EPOCH_SQL[moteur]
    paires = f"{epoch.format('debut')} || ',' || {epoch.format('fin')}"
    statuts = [str(s) for s in STATUTS_ACTIFS]
    sql = (
        f"SELECT agent, {_CONCAT_SQL[moteur].format(paires)}"
        f" FROM rdv WHERE agent IN ({marques(agents)})"
        f" AND statut IN ({marques(statuts)})"
        " AND debut < {} AND fin > {}"
    )
    args: list[Any] = [*agents, *statuts, fin, debut]
    if sauf_rdv is not None:
        # Moving an rdv: its own time does not stand in its way.
        sql += " AND id != {}"
        args.append(sauf_rdv)
    sql += " GROUP BY agent"
    return creneaux.Occupations(
        {int(agent): list(map(int, texte.split(","))) for agent, texte in await lignes(sql, *args)}
    )


_MOTIF_SQL = """SELECT m.id, m.nom, m.service, s.code, s.nom, t.id, t.fuseau_horaire,
    m.duree_minutes, m.reservable_en_ligne, m.collectif, m.capacite,
    m.annulable_par_usager, m.deplacable_par_usager, m.delai_annulation_heures,
    m.instructions, m.canal, m.delai_min_minutes, m.delai_max_jours, m.accoler, m.actif
FROM motif m JOIN service s ON s.id = m.service JOIN territoire t ON t.id = s.territoire
WHERE m.id = {}"""


async def motif_info(motif_id: int, *, actifs_seulement: bool = True) -> MotifInfo:
    """The motif with its service and territoire, in one query written once: every
    booking and every message about an rdv reads it."""
    rows = await lignes(_MOTIF_SQL, motif_id)
    if not rows:
        raise NotFound("Ce motif n'existe pas.", code="motif_inconnu")
    (
        id_,
        nom,
        service_id,
        service_code,
        service_nom,
        territoire_id,
        fuseau,
        duree_minutes,
        reservable_en_ligne,
        collectif,
        capacite,
        annulable,
        deplacable,
        delai_annulation_heures,
        instructions,
        canal,
        delai_min_minutes,
        delai_max_jours,
        accoler,
        actif,
    ) = rows[0]
    # A motif withdrawn from booking still describes the rdvs already booked.
    if actifs_seulement and not actif:
        raise NotFound("Ce motif n'existe pas.", code="motif_inconnu")
    duree = timedelta(minutes=duree_minutes)
    return MotifInfo(
        id=id_,
        nom=nom,
        service_id=service_id,
        service_code=service_code,
        service_nom=service_nom,
        territoire_id=territoire_id,
        fuseau=fuseau,
        duree=duree,
        reservable_en_ligne=bool(reservable_en_ligne),
        collectif=bool(collectif),
        capacite=capacite,
        annulable_par_usager=bool(annulable),
        deplacable_par_usager=bool(deplacable),
        delai_annulation=timedelta(hours=delai_annulation_heures),
        instructions=instructions,
        canal=canal,
        regles=creneaux.MotifRegles(
            id=id_,
            duree=duree,
            delai_min=timedelta(minutes=delai_min_minutes),
            delai_max=timedelta(days=delai_max_jours),
            accoler=bool(accoler),
        ),
    )


async def site_du_motif(motif: MotifInfo, site_id: int) -> dict[str, Any]:
    """The site, if active, of the motif's territoire and offering its service; else 404."""
    rows = await lignes(
        "SELECT s.id, s.nom, s.adresse FROM site s"
        " JOIN site_service ss ON ss.site = s.id AND ss.service = {}"
        " WHERE s.id = {} AND s.actif = {} AND s.territoire = {}",
        motif.service_id,
        site_id,
        True,
        motif.territoire_id,
    )
    if not rows:
        raise NotFound("Ce lieu ne propose pas ce motif.", code="site_inconnu")
    return dict(zip(("id", "nom", "adresse"), rows[0], strict=True))


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
    fin_rdvs: datetime | None = None,
) -> Contexte:
    """The plages, absences, rdvs, closures and holidays bearing on `motif` in [debut, fin);
    for a collective motif, its sessions only: agents open them where they want.

    With `fin_rdvs`, the rdvs only in [debut, fin_rdvs): a search that may stop
    there loads the later ones for the sites that need them (`Contexte.plus_loin`).
    """
    contexte = Contexte(motif=motif, sauf_rdv=sauf_rdv)
    if motif.collectif:
        contexte.sessions = await sessions(
            motif, debut=debut, fin=fin, site_ids=site_ids, agent_ids=agent_ids
        )
        return contexte
    zone = ZoneInfo(motif.fuseau)
    premier_jour = debut.astimezone(zone).date() - timedelta(days=1)
    dernier_jour = fin.astimezone(zone).date() + timedelta(days=1)

    # Raw, for the same reasons as _occupations: every site of a département at once
    # is a thousand plages. CAST: no Piccolo converter per integer (see there).
    sql = (
        "SELECT CAST(p.id AS INTEGER), CAST(p.agent AS INTEGER), CAST(p.site AS INTEGER),"
        " p.heure_debut, p.heure_fin, p.premier_jour, p.rrule, p.fin, c.departement"
        " FROM plage_motif pm JOIN plage_ouverture p ON p.id = pm.plage"
        " JOIN site s ON s.id = p.site JOIN agent a ON a.id = p.agent"
        " LEFT JOIN commune c ON c.id = s.commune"
        " WHERE pm.motif = {} AND s.actif = {} AND a.actif = {}"
        " AND p.premier_jour <= {} AND (p.fin IS NULL OR p.fin >= {})"
    )
    args: list[Any] = [motif.id, True, True, dernier_jour, premier_jour]
    for colonne, ids in (("p.site", site_ids), ("p.agent", agent_ids)):
        if ids is not None:
            ids = list(ids) or [-1]
            sql += f" AND {colonne} IN ({marques(ids)})"
            args += ids
    rows = await lignes(sql, *args)
    if not rows:
        return contexte
    departements: dict[int, str] = {}
    motif_ids = frozenset({motif.id})
    for id, agent_id, site_id, heure_debut, heure_fin, jour, rrule, fin_plage, dep in rows:
        contexte.plages.append(
            creneaux.PlageOuverture(
                id=id,
                agent_id=agent_id,
                site_id=site_id,
                motif_ids=motif_ids,
                heure_debut=heure_debut,
                heure_fin=heure_fin,
                premier_jour=jour,
                rrule=rrule,
                fin=fin_plage,
            )
        )
        departements[site_id] = dep
    agents = sorted({p.agent_id for p in contexte.plages})
    sites = sorted(departements)

    contexte.absences = [
        creneaux.Absence(agent_id=agent, debut=debut_absence, fin=fin_absence, rrule=rrule)
        for agent, debut_absence, fin_absence, rrule in await lignes(
            f"SELECT agent, debut, fin, rrule FROM absence WHERE agent IN ({marques(agents)})"
            " AND debut < {} AND (rrule IS NOT NULL OR fin > {})",
            *agents,
            fin,
            debut,
        )
    ]

    contexte.occupations = await _occupations(agents, debut, fin_rdvs or fin, sauf_rdv)

    fermes: dict[int, set[date]] = defaultdict(set)
    for site_id, debut_fermeture, fin_fermeture in await lignes(
        f"SELECT site, debut, fin FROM fermeture WHERE site IN ({marques(sites)})"
        " AND debut <= {} AND fin >= {}",
        *sites,
        dernier_jour,
        premier_jour,
    ):
        jour = max(debut_fermeture, premier_jour)
        while jour <= min(fin_fermeture, dernier_jour):
            fermes[site_id].add(jour)
            jour += timedelta(days=1)
    annees = range(premier_jour.year, dernier_jour.year + 1)
    # Read once per département, not once per site (602 sites, one or two départements).
    feries = {d: jours_feries(d, annees).keys() for d in set(departements.values())}
    for site_id, departement in departements.items():
        fermes[site_id].update(feries[departement])
    contexte.jours_fermes = dict(fermes)
    return contexte
