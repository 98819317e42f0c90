"""The public directory services on a real database: places, nearest sites, communes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from plateforme.errors import Invalid, NotFound
from sites.services.proximite import (
    Point,
    autocomplete_communes,
    fiche_site,
    resoudre_point,
    sites_proches,
)
from sites.tables import Commune, Fermeture, Service, Site
from tests import factories

# Real rows of the communes file, so that a test importing the whole file agrees.
COMMUNES: dict[str, dict[str, Any]] = {
    "toulouse": factories.TOULOUSE,
    "colomiers": {
        "insee": "31149",
        "nom": "Colomiers",
        "nom_normalise": "colomiers",
        "departement": "31",
        "region": "76",
        "codes_postaux": "31770",
        "latitude": 43.612541,
        "longitude": 1.332637,
        "population": 38951,
    },
    "muret": {
        "insee": "31395",
        "nom": "Muret",
        "nom_normalise": "muret",
        "departement": "31",
        "region": "76",
        "codes_postaux": "31600",
        "latitude": 43.461947,
        "longitude": 1.331232,
        "population": 24945,
    },
    "montauban": {
        "insee": "82121",
        "nom": "Montauban",
        "nom_normalise": "montauban",
        "departement": "82",
        "region": "76",
        "codes_postaux": "82000",
        "latitude": 44.016124,
        "longitude": 1.352639,
        "population": 60810,
    },
    "strasbourg": {
        "insee": "67482",
        "nom": "Strasbourg",
        "nom_normalise": "strasbourg",
        "departement": "67",
        "region": "44",
        "codes_postaux": "67000 67100 67200",
        "latitude": 48.573580,
        "longitude": 7.753210,
        "population": 280966,
    },
    "chateau-thierry": {
        "insee": "02168",
        "nom": "Château-Thierry",
        "nom_normalise": "chateau thierry",
        "departement": "02",
        "region": "32",
        "codes_postaux": "02400",
        "latitude": 49.046001,
        "longitude": 3.402710,
        "population": 15107,
    },
    "brasles": {
        "insee": "02114",
        "nom": "Brasles",
        "nom_normalise": "brasles",
        "departement": "02",
        "region": "32",
        "codes_postaux": "02400",
        "latitude": 49.047895,
        "longitude": 3.426912,
        "population": 1529,
    },
}

TOULOUSE = Point(
    latitude=cast(float, factories.TOULOUSE["latitude"]),
    longitude=cast(float, factories.TOULOUSE["longitude"]),
)
LUNDI = date(2026, 6, 1)
OUVERT_TOUS_LES_JOURS = {
    jour: [["09:00", "12:00"]]
    for jour in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
}


async def commune(name: str) -> Commune:
    return await factories.commune(**COMMUNES[name])


async def territoire_et_service(**values: Any) -> tuple[Any, Service, str]:
    """A territoire with a service whose code no other test uses."""
    territoire = await factories.territoire(**values)
    code = factories.unique("svc").replace(" ", "-")
    return territoire, await factories.service(territoire, code=code), code


async def site_a(name: str, territoire: Any, services: list[Service], **values: Any) -> Site:
    """A site named after its commune, at the coordinates above whoever created the commune."""
    position = {key: COMMUNES[name][key] for key in ("latitude", "longitude")}
    return await factories.site(
        territoire,
        services=services,
        commune_row=await commune(name),
        nom=name,
        **{**position, **values},
    )


# --- sites_proches --------------------------------------------------------------------


async def test_sites_proches_sorts_by_distance_and_gives_each_distance() -> None:
    territoire, service, code = await territoire_et_service()
    for name in ("montauban", "muret", "toulouse", "colomiers"):
        await site_a(name, territoire, [service])

    found = await sites_proches(TOULOUSE, service=code, aujourd_hui=LUNDI)

    assert [p.site.nom for p in found] == ["toulouse", "colomiers", "muret", "montauban"]
    assert found[0].distance_km == pytest.approx(0.0, abs=0.01)
    assert found[1].distance_km == pytest.approx(9.0, abs=0.5)
    assert found[3].distance_km == pytest.approx(46.0, abs=1.0)
    assert found[0].site.commune == "Toulouse"
    assert found[0].site.territoire == territoire.nom


async def test_sites_proches_stops_at_the_limit_keeping_the_nearest() -> None:
    territoire, service, code = await territoire_et_service()
    for name in ("montauban", "muret", "toulouse", "colomiers"):
        await site_a(name, territoire, [service])

    found = await sites_proches(TOULOUSE, service=code, limite=2, aujourd_hui=LUNDI)

    assert [p.site.nom for p in found] == ["toulouse", "colomiers"]


async def test_sites_proches_leaves_out_inactive_sites_and_sites_without_the_service() -> None:
    territoire, service, code = await territoire_et_service()
    other = await factories.service(territoire, code=factories.unique("autre").replace(" ", "-"))
    await site_a("toulouse", territoire, [service], actif=False)
    await site_a("colomiers", territoire, [other])
    await site_a("muret", territoire, [service, other])

    found = await sites_proches(TOULOUSE, service=code, aujourd_hui=LUNDI)

    assert [p.site.nom for p in found] == ["muret"]


async def test_sites_proches_is_exact_when_the_nearest_site_lies_beyond_the_first_search_box() -> (
    None
):
    territoire, service, code = await territoire_et_service()
    lat, lon = TOULOUSE.latitude, TOULOUSE.longitude
    # In a corner of the 30 km box, but about 40 km away.
    await site_a("toulouse", territoire, [service], latitude=lat + 0.25, longitude=lon + 0.35)
    # Outside the box, due south, about 36 km away.
    await site_a("muret", territoire, [service], latitude=lat - 0.32, longitude=lon)

    found = await sites_proches(TOULOUSE, service=code, limite=1, aujourd_hui=LUNDI)

    assert [p.site.nom for p in found] == ["muret"]
    assert found[0].distance_km == pytest.approx(35.6, abs=0.5)


async def test_an_inactive_site_does_not_take_the_place_of_an_active_one_within_the_limit() -> None:
    territoire, service, code = await territoire_et_service()
    await site_a("toulouse", territoire, [service], actif=False)
    await site_a("colomiers", territoire, [service])

    found = await sites_proches(TOULOUSE, service=code, limite=1, aujourd_hui=LUNDI)

    assert [p.site.nom for p in found] == ["colomiers"]


async def test_sites_proches_spans_territoires_unless_one_is_asked() -> None:
    territoire, service, code = await territoire_et_service()
    voisin = await factories.territoire(code="82")
    service_voisin = await factories.service(voisin, code=code)
    await site_a("montauban", voisin, [service_voisin])
    await site_a("muret", territoire, [service])

    everywhere = await sites_proches(TOULOUSE, service=code, aujourd_hui=LUNDI)
    only_one = await sites_proches(
        TOULOUSE, service=code, territoire_id=territoire.id, aujourd_hui=LUNDI
    )

    assert [p.site.nom for p in everywhere] == ["muret", "montauban"]
    assert [p.site.nom for p in only_one] == ["muret"]


async def test_sites_proches_is_empty_for_a_service_nobody_offers() -> None:
    assert await sites_proches(TOULOUSE, service="aucun-site-ne-l-offre") == []


async def test_sites_proches_gives_the_week_with_the_closure_of_that_site_only() -> None:
    territoire, service, code = await territoire_et_service()
    toulouse = await site_a("toulouse", territoire, [service], horaires=OUVERT_TOUS_LES_JOURS)
    await site_a("colomiers", territoire, [service], horaires=OUVERT_TOUS_LES_JOURS)
    await Fermeture(
        site=toulouse.id, debut=date(2026, 5, 25), fin=date(2026, 6, 2), motif="travaux"
    ).save()
    # A closure outside the week changes nothing.
    await Fermeture(site=toulouse.id, debut=date(2026, 6, 8), fin=date(2026, 6, 9)).save()

    found = await sites_proches(TOULOUSE, service=code, aujourd_hui=LUNDI)

    week = found[0].site.semaine
    assert [d.date for d in week] == [date(2026, 6, day) for day in range(1, 8)]
    assert [(d.ouvert, d.raison) for d in week[:3]] == [
        (False, "Fermé : travaux"),
        (False, "Fermé : travaux"),
        (True, None),
    ]
    assert all(d.ouvert for d in found[1].site.semaine)


async def test_sites_proches_applies_the_holidays_of_the_site_s_departement() -> None:
    territoire, service, code = await territoire_et_service()
    await site_a("toulouse", territoire, [service], horaires=OUVERT_TOUS_LES_JOURS)
    await site_a("strasbourg", territoire, [service], horaires=OUVERT_TOUS_LES_JOURS)

    found = await sites_proches(TOULOUSE, service=code, aujourd_hui=date(2026, 12, 21))

    by_name = {p.site.nom: {d.date: d for d in p.site.semaine} for p in found}
    noel, saint_etienne = date(2026, 12, 25), date(2026, 12, 26)
    assert by_name["toulouse"][noel].raison == "Jour férié : Noël"
    assert by_name["strasbourg"][noel].raison == "Jour férié : Noël"
    assert by_name["toulouse"][saint_etienne].ouvert is True
    assert by_name["strasbourg"][saint_etienne].ouvert is False
    assert by_name["strasbourg"][saint_etienne].raison == "Jour férié : Saint-Étienne"


async def test_sites_proches_starts_today_in_the_territoire_s_time_zone() -> None:
    territoire, service, code = await territoire_et_service(fuseau_horaire="Pacific/Kiritimati")
    await site_a("toulouse", territoire, [service])

    found = await sites_proches(TOULOUSE, service=code)

    # UTC+14: its today is often not the UTC day.
    assert found[0].site.semaine[0].date == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()


async def test_sites_proches_shows_unknown_hours_as_not_communicated_not_closed() -> None:
    territoire, service, code = await territoire_et_service()
    await site_a("toulouse", territoire, [service], horaires=None)

    found = await sites_proches(TOULOUSE, service=code, aujourd_hui=LUNDI)

    assert {(d.ouvert, d.raison) for d in found[0].site.semaine} == {
        (None, "Horaires non communiqués")
    }


async def test_sites_proches_refuses_a_limit_outside_1_to_50() -> None:
    for limite in (0, 51):
        with pytest.raises(Invalid) as error:
            await sites_proches(TOULOUSE, service="pmi", limite=limite)
        assert "limite" in error.value.fields


# --- fiche_site -----------------------------------------------------------------------


async def test_fiche_site_gives_an_active_site_with_its_services() -> None:
    territoire, service, _ = await territoire_et_service()
    site = await site_a("muret", territoire, [service], telephone="05 61 00 00 00")

    fiche = await fiche_site(site.id, aujourd_hui=LUNDI)

    assert (fiche.site.id, fiche.site.commune, fiche.site.telephone) == (
        site.id,
        "Muret",
        "05 61 00 00 00",
    )
    assert [(s.code, s.nom) for s in fiche.services] == [(service.code, service.nom)]
    assert len(fiche.site.semaine) == 7


async def test_fiche_site_is_not_found_for_an_inactive_or_missing_site() -> None:
    territoire, service, _ = await territoire_et_service()
    inactive = await site_a("muret", territoire, [service], actif=False)

    for site_id in (inactive.id, 987654321):
        with pytest.raises(NotFound):
            await fiche_site(site_id)


# --- resoudre_point -------------------------------------------------------------------


async def test_resoudre_point_by_insee_code_gives_the_commune_s_town_hall() -> None:
    muret = await commune("muret")

    point = await resoudre_point(commune=" 31395 ", code_postal=None, lat=None, lon=None)

    assert (point.latitude, point.longitude) == (muret.latitude, muret.longitude)
    assert point.commune is not None and point.commune.nom == "Muret"


async def test_resoudre_point_by_postcode_takes_the_most_populated_commune() -> None:
    await commune("brasles")
    chateau = await commune("chateau-thierry")

    point = await resoudre_point(commune=None, code_postal="02400", lat=None, lon=None)

    assert point.commune is not None and point.commune.insee == "02168"
    assert (point.latitude, point.longitude) == (chateau.latitude, chateau.longitude)


async def test_resoudre_point_by_postcode_matches_a_code_that_is_not_the_first() -> None:
    await commune("toulouse")

    point = await resoudre_point(commune=None, code_postal="31400", lat=None, lon=None)

    assert point.commune is not None and point.commune.insee == "31555"


async def test_resoudre_point_by_coordinates_keeps_them() -> None:
    point = await resoudre_point(commune=None, code_postal=None, lat=-20.88, lon=55.45)

    assert point == Point(latitude=-20.88, longitude=55.45)


async def test_resoudre_point_says_an_unknown_commune_or_postcode_is_not_found() -> None:
    for given in ({"commune": "99999"}, {"code_postal": "00000"}):
        arguments: dict[str, Any] = {
            "commune": None,
            "code_postal": None,
            "lat": None,
            "lon": None,
            **given,
        }
        with pytest.raises(NotFound) as error:
            await resoudre_point(**arguments)
        assert error.value.code == "commune_inconnue"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, "commune"),
        ({"commune": "31555", "code_postal": "31000"}, "code_postal"),
        ({"commune": "31555", "lat": 43.6, "lon": 1.4}, "lat"),
        ({"lat": 43.6}, "lon"),
        ({"lon": 1.4}, "lat"),
        ({"lat": 91.0, "lon": 1.4}, "lat"),
        ({"lat": float("nan"), "lon": 1.4}, "lat"),
        ({"lat": 43.6, "lon": -180.5}, "lon"),
        ({"commune": "Toulouse"}, "commune"),
        ({"code_postal": "3100"}, "code_postal"),
    ],
)
async def test_resoudre_point_refuses_a_place_given_in_none_or_several_ways_or_out_of_range(
    given: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "commune": None,
        "code_postal": None,
        "lat": None,
        "lon": None,
        **given,
    }

    with pytest.raises(Invalid) as error:
        await resoudre_point(**arguments)

    assert field in error.value.fields


# --- autocomplete_communes ------------------------------------------------------------


async def test_autocomplete_finds_a_commune_by_name_prefix_with_or_without_accents() -> None:
    await commune("chateau-thierry")

    for q in ("chateau", "Château", "CHATEAU-THI", "château thi"):
        found = await autocomplete_communes(q, limite=50)
        assert "02168" in [c.insee for c in found], q


async def test_autocomplete_matches_the_start_of_the_name_only() -> None:
    await commune("chateau-thierry")

    found = await autocomplete_communes("thierry", limite=50)

    assert "02168" not in [c.insee for c in found]


async def test_autocomplete_by_postcode_prefix_puts_the_most_populated_first() -> None:
    await commune("brasles")
    await commune("chateau-thierry")

    found = await autocomplete_communes("0240", limite=50)

    insees = [c.insee for c in found]
    assert insees.index("02168") < insees.index("02114")
    chateau = found[insees.index("02168")]
    assert chateau.nom == "Château-Thierry"
    assert chateau.codes_postaux == ("02400",)


async def test_autocomplete_by_postcode_matches_any_of_a_commune_s_codes() -> None:
    await commune("toulouse")

    found = await autocomplete_communes("3140")

    assert [c.insee for c in found][:1] == ["31555"]


async def test_autocomplete_respects_the_limit() -> None:
    await commune("brasles")
    await commune("chateau-thierry")

    assert len(await autocomplete_communes("02400", limite=1)) == 1


@pytest.mark.parametrize("q", ["", "t", " t ", "-"])
async def test_autocomplete_refuses_fewer_than_two_characters(q: str) -> None:
    with pytest.raises(Invalid) as error:
        await autocomplete_communes(q)

    assert "q" in error.value.fields
