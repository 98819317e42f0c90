"""The public search page, without JavaScript: a commune or a postcode gives the nearest sites."""

from __future__ import annotations

import httpx

from tests import factories


async def _setup() -> tuple[str, str]:
    territoire = await factories.territoire()
    code = factories.unique("svc").replace(" ", "").lower()
    service = await factories.service(territoire, code=code, nom="Service de test")
    colomiers = await factories.commune(
        insee="31149",
        nom="Colomiers",
        nom_normalise="colomiers",
        codes_postaux="31770",
        latitude=43.611576,
        longitude=1.335641,
        population=39981,
    )
    near = await factories.site(
        territoire,
        services=[service],
        commune_row=colomiers,
        nom="Maison de Colomiers",
        latitude=43.6116,
        longitude=1.3356,
    )
    await factories.site(territoire, services=[service], nom="Maison de Toulouse")
    return code, near.nom


async def test_a_postcode_lists_the_nearest_sites_first_with_their_week(
    client: httpx.AsyncClient,
) -> None:
    code, near = await _setup()
    page = await client.get("/", params={"lieu": "31770", "service": code})
    assert page.status_code == 200
    text = page.text
    assert text.index("Maison de Colomiers") < text.index("Maison de Toulouse")
    assert "Horaires des 7 prochains jours" in text
    assert "09:00–12:00" in text  # the factory's Monday hours


async def test_a_commune_name_without_accents_finds_it(client: httpx.AsyncClient) -> None:
    code, _ = await _setup()
    page = await client.get("/", params={"lieu": "colomiers", "service": code})
    assert page.status_code == 200 and "près de Colomiers" in page.text


async def test_an_unknown_place_is_explained_next_to_the_field(client: httpx.AsyncClient) -> None:
    page = await client.get("/", params={"lieu": "zzzzqx", "service": "pmi"})
    assert page.status_code == 422
    assert "Aucune commune ne correspond à « zzzzqx »." in page.text
    assert 'aria-invalid="true"' in page.text


async def test_when_several_communes_match_each_link_leads_to_that_commune(
    client: httpx.AsyncClient,
) -> None:
    code, _ = await _setup()
    # Communes are shared by the whole test session: a département no other test reads.
    for insee in ("99801", "99802"):
        await factories.commune(
            insee=insee,
            nom="Montbrunzy",
            nom_normalise="montbrunzy",
            departement="99",
            codes_postaux=insee,
            latitude=43.6,
            longitude=1.4,
            population=100,
        )
    page = await client.get("/", params={"lieu": "montbrunzy", "service": code})
    assert "Plusieurs communes correspondent" in page.text
    link = page.text.split('<li><a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "commune=9980" in link
    followed = await client.get(link)
    assert followed.status_code == 200 and "près de Montbrunzy" in followed.text
