"""A site with two queues, two counters and their agents, for the queue tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories


@dataclass
class SiteFile:
    territoire: Any
    site: Any
    service: Any
    autre_service: Any
    file: Any
    autre_file: Any
    guichets: list[Any]
    agents: list[Any]
    borne: Any
    borne_jeton: str


async def site_avec_files(n_guichets: int = 2, **file_values: Any) -> SiteFile:
    territoire = await factories.territoire()
    pmi = await factories.service(territoire, code="pmi", nom="PMI")
    social = await factories.service(territoire, code="social", nom="Action sociale")
    site = await factories.site(territoire, services=[pmi, social], horaires=None)
    file = await factories.file_attente(site, pmi, nom="PMI", prefixe="A", **file_values)
    autre = await factories.file_attente(site, social, nom="Action sociale", prefixe="B")
    guichets = [await factories.guichet(site, str(i + 1)) for i in range(n_guichets)]
    agents = [await factories.agent(territoire, sites=[site]) for _ in range(n_guichets)]
    borne, jeton = await factories.appareil(site, "borne")
    return SiteFile(territoire, site, pmi, social, file, autre, guichets, agents, borne, jeton)


@pytest.fixture
async def lieu() -> SiteFile:
    return await site_avec_files()
