"""Public JSON API of the directory: commune autocompletion, nearest sites, one site."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.openapi.spec import Example
from litestar.params import Parameter

from plateforme.db import lecture
from sites.schemas import (
    CommunePublic,
    SitePublic,
    SitesProches,
    commune_public,
    site_public,
    sites_proches_public,
)
from sites.services import proximite

Limite = Annotated[
    int,
    Parameter(ge=1, le=proximite.LIMITE_MAX, description="Nombre de réponses au plus (1 à 50)"),
]


class PublicController(Controller):
    path = "/api"
    tags = ["Annuaire"]

    @get("/communes", operation_id="autocompleterCommunes")
    async def communes(
        self,
        q: Annotated[
            str,
            Parameter(
                min_length=2,
                max_length=100,
                description="Début du nom (accents facultatifs) ou du code postal",
                examples=[Example(value="chateau"), Example(value="310")],
            ),
        ],
        limite: Limite = 10,
    ) -> list[CommunePublic]:
        """Communes whose name or one of whose postcodes starts with q, most populated first."""
        communes = await proximite.autocomplete_communes(q, limite)
        return [commune_public(commune) for commune in communes]

    @get("/sites/proches", operation_id="sitesProches")
    async def sites_proches(
        self,
        service: Annotated[
            str,
            Parameter(
                min_length=1,
                max_length=40,
                description="Code du service",
                examples=[Example(value="pmi")],
            ),
        ],
        commune: Annotated[
            str | None,
            Parameter(description="Code INSEE de la commune", examples=[Example(value="31555")]),
        ] = None,
        code_postal: Annotated[
            str | None, Parameter(description="Code postal", examples=[Example(value="31400")])
        ] = None,
        lat: Annotated[
            float | None, Parameter(ge=-90, le=90, description="Latitude (WGS 84)")
        ] = None,
        lon: Annotated[
            float | None, Parameter(ge=-180, le=180, description="Longitude (WGS 84)")
        ] = None,
        limite: Limite = 10,
    ) -> SitesProches:
        """Active sites offering a service, nearest first; from commune, code_postal or lat+lon."""
        async with lecture():
            point = await proximite.resoudre_point(
                commune=commune, code_postal=code_postal, lat=lat, lon=lon
            )
            sites = await proximite.sites_proches(point, service=service, limite=limite)
        return sites_proches_public(point, sites)

    @get("/sites/{site_id:int}", operation_id="sitePublic")
    async def site(self, site_id: int) -> SitePublic:
        """One active site: address, accessibility, services and next 7 days."""
        return site_public(await proximite.fiche_site(site_id))
