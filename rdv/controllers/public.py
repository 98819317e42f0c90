"""Public JSON API of booking: motifs, free créneaux of a site, booking an rdv."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from plateforme.db import lecture
from rdv import creneaux
from rdv.schemas import (
    Creneau,
    JourCreneaux,
    MotifPublic,
    RdvCreate,
    RdvPublic,
    SemaineCreneaux,
    SiteCourt,
    SiteDisponible,
)
from rdv.services import recherche, reservation
from sites.services import proximite


class RdvPublicController(Controller):
    path = "/api"
    tags = ["Rendez-vous"]

    @get("/motifs", operation_id="motifsEnLigne")
    async def motifs(
        self, service: Annotated[str, Parameter(min_length=1, max_length=40)]
    ) -> list[MotifPublic]:
        """Motifs of a service (by code) that the public may book online."""
        rows = await recherche.motifs_en_ligne(service)
        return [MotifPublic(**row) for row in rows]

    @get("/motifs/{motif_id:int}/sites", operation_id="sitesDisponibles")
    async def sites(
        self,
        motif_id: int,
        commune: Annotated[str | None, Parameter(max_length=5, description="Code INSEE")] = None,
        code_postal: Annotated[str | None, Parameter(max_length=5)] = None,
        lat: Annotated[float | None, Parameter(ge=-90, le=90)] = None,
        lon: Annotated[float | None, Parameter(ge=-180, le=180)] = None,
        limite: Annotated[int, Parameter(ge=1, le=20)] = 10,
        tri: Annotated[str, Parameter(description="distance ou disponibilite")] = "distance",
    ) -> list[SiteDisponible]:
        """Nearest contact points offering the motif, each with its next free créneau."""
        async with lecture():
            point = await proximite.resoudre_point(
                commune=commune, code_postal=code_postal, lat=lat, lon=lon
            )
        result = await recherche.disponibilites(motif_id, point, limite=limite, tri=tri)
        zone = ZoneInfo((await recherche.motif_en_ligne(motif_id)).fuseau)
        return [
            SiteDisponible(
                id=d.site.site.id,
                nom=d.site.site.nom,
                adresse=d.site.site.adresse,
                commune=d.site.site.commune,
                telephone=d.site.site.telephone,
                accessibilite=d.site.site.accessibilite,
                distance_km=round(d.site.distance_km, 1),
                prochain_creneau=creneau_public(d.prochain, zone) if d.prochain else None,
            )
            for d in result
        ]

    @get("/motifs/{motif_id:int}/sites/{site_id:int}/creneaux", operation_id="semaineCreneaux")
    async def semaine(
        self,
        motif_id: int,
        site_id: int,
        du: date | None = None,
        jours: Annotated[int, Parameter(ge=1, le=recherche.JOURS_MAX)] = 7,
    ) -> SemaineCreneaux:
        """Free créneaux of a motif at a site, day by day (local dates of the territoire);
        for a collective motif, its sessions with seats left and how many."""
        result = await recherche.semaine(motif_id, site_id, du=du, jours=jours)
        zone = ZoneInfo(result.motif.fuseau)
        return SemaineCreneaux(
            motif_id=motif_id,
            site_id=site_id,
            fuseau=result.motif.fuseau,
            jours=[
                JourCreneaux(
                    date=jour.date.isoformat(),
                    jour=jour.jour,
                    creneaux=[creneau_public(c, zone) for c in jour.creneaux],
                )
                for jour in result.jours
            ],
            suivant=result.suivant.astimezone(zone) if result.suivant else None,
        )

    @post(
        "/rdv",
        operation_id="reserverRdv",
        status_code=HTTP_201_CREATED,
        opt={"exclude_from_csrf": True},
    )
    async def reserver(self, data: RdvCreate) -> RdvPublic:
        """Book a créneau, or a seat in a collective session, for the usager or their relative.
        409 with the next free créneaux (sessions with seats) when it was just taken (full)."""
        demande = reservation.DemandeRdv(
            motif_id=data.motif_id,
            site_id=data.site_id,
            debut=data.debut,
            personne=reservation.Personne(
                prenom=data.usager.prenom,
                nom=data.usager.nom,
                telephone=data.usager.telephone,
                email=data.usager.email,
            ),
            proche=reservation.Proche(
                prenom=data.proche.prenom,
                nom=data.proche.nom,
                date_naissance=data.proche.date_naissance,
            )
            if data.proche
            else None,
        )
        try:
            rdv = await reservation.reserver(demande)
        except reservation.CreneauIndisponible as taken:
            zone = ZoneInfo((await recherche.motif_en_ligne(data.motif_id)).fuseau)
            joindre_prochains(taken, zone)
            raise
        site = rdv.site
        zone = ZoneInfo(rdv.motif.fuseau)
        return RdvPublic(
            code=rdv.code,
            statut="a_venir",
            debut=rdv.debut.astimezone(zone),
            fin=rdv.fin.astimezone(zone),
            fuseau=rdv.motif.fuseau,
            motif=rdv.motif.nom,
            service=rdv.motif.service_nom,
            site=SiteCourt(id=site["id"], nom=site["nom"], adresse=site["adresse"]),
            instructions=rdv.motif.instructions,
            collectif=rdv.motif.collectif,
            pour=rdv.pour,
        )


def creneau_public(creneau: creneaux.Creneau, zone: ZoneInfo) -> Creneau:
    return Creneau(
        debut=creneau.debut.astimezone(zone),
        fin=creneau.fin.astimezone(zone),
        places=creneau.places,
    )


def joindre_prochains(taken: reservation.CreneauIndisponible, zone: ZoneInfo) -> None:
    """The 409's body offers the next free créneaux, in local time."""
    taken.extra["prochains_creneaux"] = [
        msgspec.to_builtins(creneau_public(c, zone)) for c in taken.prochains
    ]
