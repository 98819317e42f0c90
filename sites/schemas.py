"""What the public directory API sends: communes, sites and their coming days (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from sites.services.horaires import JourOuverture
from sites.services.proximite import CommuneTrouvee, FicheSite, Point, SiteAnnuaire, SiteProche


class CommunePublic(msgspec.Struct, kw_only=True):
    insee: Annotated[str, Meta(description="Code INSEE de la commune", examples=["31555"])]
    nom: Annotated[str, Meta(examples=["Toulouse"])]
    departement: Annotated[str, Meta(description="Code du département", examples=["31"])]
    codes_postaux: Annotated[list[str], Meta(examples=[["31000", "31100", "31200"]])]
    latitude: Annotated[float | None, Meta(examples=[43.604462])]
    longitude: Annotated[float | None, Meta(examples=[1.444247])]


class PlageHoraire(msgspec.Struct, kw_only=True):
    """An opening interval, local time of the site."""

    debut: Annotated[str, Meta(description="Heure locale HH:MM", examples=["08:30"])]
    fin: Annotated[str, Meta(description="Heure locale HH:MM", examples=["12:00"])]


class JourOuverturePublic(msgspec.Struct, kw_only=True):
    """One of the coming days of a site."""

    date: dt.date
    jour: Annotated[str, Meta(examples=["lundi"])]
    ouvert: Annotated[
        bool | None,
        Meta(description="true ouvert, false fermé, null horaires non communiqués"),
    ]
    plages: list[PlageHoraire]
    raison: Annotated[
        str | None,
        Meta(
            description="Pourquoi ce jour diffère de la semaine habituelle",
            examples=["Jour férié : Noël", "Fermé : inventaire", "Horaires non communiqués"],
        ),
    ]


class ServicePublic(msgspec.Struct, kw_only=True):
    code: Annotated[str, Meta(examples=["pmi"])]
    nom: Annotated[str, Meta(examples=["Protection maternelle et infantile"])]


class _Site(msgspec.Struct, kw_only=True):
    id: Annotated[int, Meta(examples=[12])]
    nom: Annotated[str, Meta(examples=["Maison des Solidarités de Toulouse Bonnefoy"])]
    kind: Annotated[str, Meta(description="centre, antenne ou permanence", examples=["centre"])]
    adresse: Annotated[str, Meta(examples=["1 place du Capitole, 31000 Toulouse"])]
    commune: Annotated[str, Meta(examples=["Toulouse"])]
    telephone: Annotated[str, Meta(examples=["05 61 00 00 00"])]
    accessibilite: Annotated[str, Meta(examples=["Accès de plain-pied, place PMR devant l'entrée"])]
    latitude: Annotated[float, Meta(examples=[43.604462])]
    longitude: Annotated[float, Meta(examples=[1.444247])]
    territoire: Annotated[str, Meta(examples=["Haute-Garonne"])]
    horaires_semaine: Annotated[
        list[JourOuverturePublic],
        Meta(description="Les 7 prochains jours, à partir d'aujourd'hui (heure du territoire)"),
    ]


class SitePublic(_Site, kw_only=True):
    """A contact point as anyone may see it (no agent, no internal field)."""

    services: list[ServicePublic]


class SiteProchePublic(_Site, kw_only=True):
    """A contact point offering the requested service, with its distance."""

    distance_km: Annotated[
        float, Meta(description="À vol d'oiseau, arrondie à 100 m", examples=[2.4])
    ]


class PointPublic(msgspec.Struct, kw_only=True):
    """The place the distances are measured from."""

    latitude: Annotated[float, Meta(examples=[43.604462])]
    longitude: Annotated[float, Meta(examples=[1.444247])]
    commune: Annotated[
        CommunePublic | None,
        Meta(description="La commune, quand le lieu est donné par commune ou code postal"),
    ]


class SitesProches(msgspec.Struct, kw_only=True):
    point: PointPublic
    sites: list[SiteProchePublic]


def commune_public(commune: CommuneTrouvee) -> CommunePublic:
    return CommunePublic(
        insee=commune.insee,
        nom=commune.nom,
        departement=commune.departement,
        codes_postaux=list(commune.codes_postaux),
        latitude=commune.latitude,
        longitude=commune.longitude,
    )


def jour_public(jour: JourOuverture) -> JourOuverturePublic:
    return JourOuverturePublic(
        date=jour.date,
        jour=jour.jour,
        ouvert=jour.ouvert,
        plages=[
            PlageHoraire(debut=start.strftime("%H:%M"), fin=end.strftime("%H:%M"))
            for start, end in jour.plages
        ],
        raison=jour.raison,
    )


def site_public(fiche: FicheSite) -> SitePublic:
    site = fiche.site
    return SitePublic(
        **_champs_publics(site),
        services=[ServicePublic(code=s.code, nom=s.nom) for s in fiche.services],
    )


def sites_proches_public(point: Point, sites: list[SiteProche]) -> SitesProches:
    commune = commune_public(point.commune) if point.commune is not None else None
    return SitesProches(
        point=PointPublic(latitude=point.latitude, longitude=point.longitude, commune=commune),
        sites=[
            SiteProchePublic(**_champs_publics(p.site), distance_km=round(p.distance_km, 1))
            for p in sites
        ],
    )


def _champs_publics(site: SiteAnnuaire) -> dict[str, Any]:
    return {
        "id": site.id,
        "nom": site.nom,
        "kind": site.kind,
        "adresse": site.adresse,
        "commune": site.commune,
        "telephone": site.telephone,
        "accessibilite": site.accessibilite,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "territoire": site.territoire,
        "horaires_semaine": [jour_public(jour) for jour in site.semaine],
    }
