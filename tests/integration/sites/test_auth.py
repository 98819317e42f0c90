"""Agent sign-in: sessions, CSRF, the rate limit, and signing out everywhere."""

from __future__ import annotations

from tests import factories
from tests.integration.conftest import Browser


async def test_an_anonymous_visitor_of_an_admin_page_is_sent_to_the_sign_in_page(
    browser: Browser,
) -> None:
    response = await browser.http.get("/admin/sites")
    assert response.status_code == 302
    assert response.headers["location"] == "/connexion?suivant=/admin/sites"


async def test_a_program_without_session_gets_a_401_with_a_code(browser: Browser) -> None:
    response = await browser.http.get("/admin/sites", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["code"] == "non_authentifie"


async def test_an_agent_signs_in_with_a_session_cookie_that_scripts_cannot_read(
    browser: Browser,
) -> None:
    territoire = await factories.territoire()
    agent = await factories.agent(territoire)
    response = await browser.sign_in(agent.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"].lower()
    assert "rdv_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    # Local http address: no Secure flag, or the browser would drop the cookie.
    assert "secure" not in cookie
    page = await browser.http.get("/admin")
    assert page.status_code == 200
    assert territoire.nom in page.text


async def test_a_wrong_password_is_refused_in_french_without_saying_which_part_was_wrong(
    browser: Browser,
) -> None:
    territoire = await factories.territoire()
    agent = await factories.agent(territoire)
    wrong_password = await browser.sign_in(agent.email, "pas le bon mot de passe")
    unknown_email = await browser.sign_in("personne@exemple.fr", "pas le bon mot de passe")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert "E-mail ou mot de passe incorrect." in response.text
    assert "rdv_session" not in browser.http.cookies


async def test_after_five_failures_even_the_right_password_is_refused_for_a_while(
    browser: Browser,
) -> None:
    territoire = await factories.territoire()
    agent = await factories.agent(territoire)
    for _ in range(5):
        assert (await browser.sign_in(agent.email, "devinette devinette")).status_code == 401
    blocked = await browser.sign_in(agent.email)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    assert (await browser.http.get("/admin")).status_code == 302


async def test_a_form_posted_without_its_csrf_token_is_refused(browser: Browser) -> None:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    admin = await factories.agent(territoire, role="admin")
    await browser.sign_in(admin.email)
    response = await browser.http.post(
        "/admin/services/nouveau", data={"code": "csrf", "nom": "Piège"}
    )
    assert response.status_code == 403
    assert "Le formulaire a expiré" in response.text
    services = await factories.Service.select(factories.Service.code).where(
        factories.Service.territoire == territoire.id
    )
    assert [row["code"] for row in services] == [service.code]


async def test_signing_out_ends_the_session(browser: Browser) -> None:
    territoire = await factories.territoire()
    agent = await factories.agent(territoire)
    await browser.sign_in(agent.email)
    assert (await browser.post_form("/deconnexion", {})).status_code == 303
    assert (await browser.http.get("/admin")).status_code == 302


async def test_deactivating_an_agent_signs_them_out_at_once(new_browser) -> None:  # type: ignore[no-untyped-def]
    territoire = await factories.territoire()
    admin = await factories.agent(territoire, role="admin")
    agent = await factories.agent(territoire, prenom="Lou", nom="Martin")
    admin_browser, agent_browser = new_browser(), new_browser()
    await admin_browser.sign_in(admin.email)
    await agent_browser.sign_in(agent.email)
    assert (await agent_browser.http.get("/admin")).status_code == 200
    saved = await admin_browser.post_form(
        f"/admin/agents/{agent.id}",
        {
            "prenom": "Lou",
            "nom": "Martin",
            "email": agent.email,
            "role": "agent",
        },  # "actif" unchecked
    )
    assert saved.status_code == 303
    assert (await agent_browser.http.get("/admin")).status_code == 302
    assert (await agent_browser.sign_in(agent.email)).status_code == 401


async def test_pages_cannot_be_framed_by_another_site_nor_sniffed(browser: Browser) -> None:
    response = await browser.http.get("/connexion")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
