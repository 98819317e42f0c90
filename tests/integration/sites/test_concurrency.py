"""Concurrent writes through the pages: the database decides, nothing is duplicated, no 500."""

from __future__ import annotations

import asyncio

from sites.tables import Agent, Service
from tests import factories


async def test_ten_admins_creating_the_same_agent_at_once_give_one_account_and_nine_clear_refusals(
    new_browser,  # type: ignore[no-untyped-def]
) -> None:
    territoire = await factories.territoire()
    admins = [await factories.agent(territoire, role="admin") for _ in range(10)]
    browsers = [new_browser() for _ in admins]
    await asyncio.gather(*(b.sign_in(a.email) for b, a in zip(browsers, admins, strict=True)))
    email = f"{factories.unique('double').replace(' ', '').lower()}@exemple.fr"
    form = {
        "prenom": "Sam",
        "nom": "Petit",
        "email": email,
        "role": "agent",
        "actif": "on",
        "mot_de_passe": "un mot de passe bien long",
    }
    responses = await asyncio.gather(
        *(b.post_form("/admin/agents/nouveau", form) for b in browsers)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [422] * 9, statuses
    assert all("déjà utilisée" in r.text for r in responses if r.status_code == 422)
    assert await Agent.count().where(Agent.email == email) == 1


async def test_ten_admins_creating_the_same_service_code_at_once_give_one_service(
    new_browser,
) -> None:  # type: ignore[no-untyped-def]
    territoire = await factories.territoire()
    admins = [await factories.agent(territoire, role="admin") for _ in range(10)]
    browsers = [new_browser() for _ in admins]
    await asyncio.gather(*(b.sign_in(a.email) for b, a in zip(browsers, admins, strict=True)))
    responses = await asyncio.gather(
        *(
            b.post_form("/admin/services/nouveau", {"code": "insertion", "nom": "Insertion"})
            for b in browsers
        )
    )
    assert sorted(r.status_code for r in responses) == [303] + [422] * 9
    assert (
        await Service.count().where(
            Service.territoire == territoire.id, Service.code == "insertion"
        )
        == 1
    )
