"""Headless Chromium (Debian's) driven by Playwright, and the axe-core check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
]

_axe = Axe()


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(chromium: Browser, server: str) -> AsyncIterator[Page]:
    """A phone-sized page (360 px wide), French locale."""
    context = await chromium.new_context(
        base_url=server, viewport={"width": 360, "height": 780}, locale="fr-FR"
    )
    page = await context.new_page()
    yield page
    await context.close()


async def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    results = await _axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    serious = [v for v in violations if v.get("impact") in {"serious", "critical"}]
    assert not serious, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in serious
    )


async def sign_in(page: Page, email: str, password: str = "mot de passe solide") -> None:
    await page.goto("/connexion")
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(password)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/admin")
