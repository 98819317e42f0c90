"""The queue pages over HTTP, as a browser without JavaScript uses them: the kiosk and its
pairing, the screen, the counter console, a ticket's page and joining from home."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bornes.services.appareils import hacher
from bornes.tables import Appareil
from file_attente.tables import Guichet, OrigineTicket, Priorite, StatutTicket, Ticket
from rdv.tables import Rdv, RdvParticipant
from sites.tables import Fermeture
from tests import factories
from tests.integration.conftest import Browser
from tests.integration.file_attente.conftest import SiteFile, site_avec_files


async def une(query: Any) -> dict[str, Any]:
    """The one row a query must find."""
    row = await query.first()
    assert row is not None
    return dict(row)


def t(response: Any) -> str:
    """The page's text as people read it (entities decoded)."""
    return html.unescape(response.text)


def borne(new_browser: Any, jeton: str) -> Browser:
    """A kiosk's browser: its device cookie, as its pairing set it."""
    navigateur: Browser = new_browser()
    navigateur.http.cookies.set("rdv_appareil", jeton)
    return navigateur


async def rdv_du_jour(lieu: SiteFile, debut: datetime | None = None, **usager: Any) -> Rdv:
    personne = await factories.usager(lieu.territoire, **usager)
    motif = await factories.motif(lieu.service)
    debut = debut or factories.bientot_aujourdhui(20)
    rdv = Rdv(
        motif=motif.id,
        site=lieu.site.id,
        agent=lieu.agents[1].id,
        debut=debut,
        fin=debut + timedelta(minutes=30),
        code=factories.code()[:8],
    )
    await rdv.save()
    await RdvParticipant(rdv=rdv.id, usager=personne.id).save()
    return rdv


async def fermer_aujourdhui(lieu: SiteFile) -> None:
    today = date.today()
    await Fermeture(
        site=lieu.site.id, debut=today - timedelta(days=1), fin=today + timedelta(days=1)
    ).save()


async def sans_limite_d_appairage() -> None:
    """Pairing requests are limited to 30 a minute for all devices together, and the devices
    the other tests just built count: move them back a few minutes so that this test's own
    request is not refused."""
    avant = datetime.now(UTC) - timedelta(minutes=5)
    await Appareil.update({Appareil.created_at: avant}).where(Appareil.created_at > avant)


# --- Pairing ---------------------------------------------------------------------------------


async def test_an_unpaired_kiosk_gets_a_strict_httponly_cookie_and_shows_its_code_until_paired(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    admin = await factories.agent(lieu.territoire, role="admin")
    await sans_limite_d_appairage()
    kiosque: Browser = new_browser()
    page = await kiosque.http.get("/borne")
    assert page.status_code == 200
    assert "Afficher un code d'appairage" in t(page)

    demande = await kiosque.post_form("/borne/appairage", {})
    assert demande.status_code == 303 and demande.headers["location"] == "/borne"
    cookie = demande.headers["set-cookie"].lower()
    assert cookie.startswith("rdv_appareil=")
    for attribut in ("httponly", "samesite=strict", "max-age=34560000", "path=/"):
        assert attribut in cookie

    page = await kiosque.http.get("/borne")
    row = (
        await Appareil.select()
        .where(Appareil.code_appairage.is_not_null())
        .order_by(Appareil.id, ascending=False)
        .first()
    )
    assert row is not None and row["site"] is None
    code = row["code_appairage"]
    assert f"{code[:3]} {code[3:]}" in t(page)
    assert 'http-equiv="refresh" content="5"' in t(page)
    assert "Prendre un ticket" not in t(page)

    manager: Browser = new_browser()
    await manager.sign_in(admin.email)
    paired = await manager.post_form(
        f"/admin/sites/{lieu.site.id}/appareils",
        {"code": f"{code[:3]} {code[3:].lower()}", "nom": "Borne de l'entrée", "kind": "borne"},
    )
    assert paired.status_code == 303
    page = await kiosque.http.get("/borne")
    assert "Prendre un ticket" in t(page)
    assert "PMI" in t(page) and "Action sociale" in t(page)


async def test_an_expired_pairing_code_is_replaced_on_the_device(new_browser: Any) -> None:
    await sans_limite_d_appairage()
    ecran: Browser = new_browser()
    await ecran.post_form("/ecran/appairage", {})
    jeton = ecran.http.cookies.get("rdv_appareil")
    assert jeton
    first = await ecran.http.get("/ecran")
    row = await une(Appareil.select().where(Appareil.jeton_hash == hacher(jeton)))
    assert row is not None and row["kind"] == "ecran"
    ancien = row["code_appairage"]
    assert f"{ancien[:3]} {ancien[3:]}" in t(first)
    await Appareil.update(
        {Appareil.code_expire_at: datetime.now(UTC) - timedelta(minutes=1)}
    ).where(Appareil.id == row["id"])
    page = await ecran.http.get("/ecran")
    nouveau = (await une(Appareil.select().where(Appareil.id == row["id"])))["code_appairage"]
    assert nouveau != ancien
    assert f"{nouveau[:3]} {nouveau[3:]}" in t(page)


async def test_a_revoked_device_says_so_and_gives_no_ticket(new_browser: Any) -> None:
    lieu = await site_avec_files()
    await Appareil.update({Appareil.revoque_at: datetime.now(UTC)}).where(
        Appareil.id == lieu.borne.id
    )
    kiosque = borne(new_browser, lieu.borne_jeton)
    page = await kiosque.http.get("/borne")
    assert page.status_code == 403
    assert "Cet appareil a été retiré du site" in t(page)
    refused = await kiosque.post_form("/borne/tickets", {"file": lieu.file.id})
    assert refused.status_code == 403
    assert await Ticket.count().where(Ticket.file == lieu.file.id) == 0


async def test_a_screen_paired_device_on_the_kiosk_page_is_sent_to_its_own_page(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    _, jeton = await factories.appareil(lieu.site, "ecran")
    page = await borne(new_browser, jeton).http.get("/borne")
    assert "appairé comme écran" in t(page) and 'href="/ecran"' in t(page)
    refused = await borne(new_browser, jeton).post_form("/borne/tickets", {"file": lieu.file.id})
    assert "appairé comme écran" in t(refused)
    assert await Ticket.count().where(Ticket.file == lieu.file.id) == 0


# --- The kiosk -------------------------------------------------------------------------------


async def test_the_kiosk_gives_a_ticket_with_its_place_and_a_qr_code_of_its_page(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    kiosque = borne(new_browser, lieu.borne_jeton)
    home = await kiosque.http.get("/borne")
    assert home.status_code == 200
    assert home.headers["cache-control"] == "no-store"
    assert f'name="file" value="{lieu.file.id}"' in t(home)

    taken = await kiosque.post_form("/borne/tickets", {"file": lieu.file.id, "lang": "fr"})
    assert taken.status_code == 303
    ticket = await une(Ticket.select().where(Ticket.file == lieu.file.id))
    assert ticket is not None
    assert ticket["origine"] == OrigineTicket.borne and ticket["appareil"] == lieu.borne.id
    assert taken.headers["location"] == f"/borne/tickets/{ticket['jeton']}?lang=fr"

    page = await kiosque.http.get(taken.headers["location"])
    assert page.status_code == 200
    assert '<span class="ticket-code">A001</span>' in t(page)
    assert "Personne n'est devant vous." in t(page)
    assert "Attente estimée : environ" in t(page)
    assert "<svg" in t(page) and "suivre votre ticket A001" in t(page)
    assert "Imprimer le ticket" in t(page)
    assert 'content="20;url=/borne"' in t(page)

    # Another kiosk cannot open that ticket's kiosk page.
    _, autre = await factories.appareil(lieu.site, "borne")
    assert (await borne(new_browser, autre).http.get(taken.headers["location"])).status_code == 404


async def test_the_kiosk_speaks_english_when_asked(new_browser: Any) -> None:
    lieu = await site_avec_files()
    kiosque = borne(new_browser, lieu.borne_jeton)
    home = await kiosque.http.get("/borne?lang=en")
    assert '<html lang="en">' in t(home)
    assert "Take a ticket" in t(home) and "I have an appointment" in t(home)
    await kiosque.post_form("/borne/tickets", {"file": lieu.file.id, "lang": "en"})
    taken = await kiosque.post_form("/borne/tickets", {"file": lieu.file.id, "lang": "en"})
    page = await kiosque.http.get(taken.headers["location"])
    assert "Your ticket" in t(page) and "1 person is ahead of you." in t(page)


async def test_a_closed_queue_at_the_kiosk_says_so_in_french_or_english_and_gives_no_ticket(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    await fermer_aujourdhui(lieu)
    kiosque = borne(new_browser, lieu.borne_jeton)
    home = await kiosque.http.get("/borne")
    assert f'name="file" value="{lieu.file.id}"' not in t(home)
    assert "Fermée pour le moment" in t(home)
    refused = await kiosque.post_form("/borne/tickets", {"file": lieu.file.id})
    assert refused.status_code == 409
    assert "est fermée pour le moment" in t(refused) and 'role="alert"' in t(refused)
    anglais = await kiosque.post_form("/borne/tickets", {"file": lieu.file.id, "lang": "en"})
    assert anglais.status_code == 409
    assert "This queue is closed at the moment." in t(anglais)
    assert await Ticket.count().where(Ticket.file == lieu.file.id) == 0


async def test_a_kiosk_taking_too_many_tickets_in_a_minute_is_told_to_wait(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    kiosque = borne(new_browser, lieu.borne_jeton)
    maintenant = datetime.now(UTC)
    for numero in range(1, 21):
        await Ticket(
            file=lieu.file.id,
            file_actuelle=lieu.file.id,
            jour=date.today() - timedelta(days=1),
            numero=numero,
            code=f"A{numero:03d}",
            jeton=factories.code() + factories.code(),
            appareil=lieu.borne.id,
            emis_at=maintenant,
            rang_at=maintenant,
        ).save()
    refused = await kiosque.post_form("/borne/tickets", {"file": lieu.file.id})
    assert refused.status_code == 429
    assert "Trop de tickets pris sur cette borne" in t(refused)
    assert await Ticket.count().where(Ticket.file == lieu.file.id) == 20


async def test_checking_in_at_the_kiosk_gives_a_priority_ticket_without_showing_the_person(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    rdv = await rdv_du_jour(lieu, prenom="Zoé", nom="Personnelle", telephone="+33698765432")
    kiosque = borne(new_browser, lieu.borne_jeton)
    # A scanner may type the confirmation link rather than the code.
    scanned = f"http://127.0.0.1/rendez-vous/{rdv.code.lower()}?cle=abc"
    page = await kiosque.post_form("/borne/arrivees", {"code": scanned})
    assert page.status_code == 200, page.text
    assert "Arrivée enregistrée" in t(page) and '<span class="ticket-code">A001</span>' in t(page)
    for personnel in ("Zoé", "Personnelle", "98765432", rdv.code):
        assert personnel not in t(page)
    ticket = await une(Ticket.select().where(Ticket.rdv == rdv.id))
    assert ticket is not None and ticket["priorite"] == Priorite.rdv
    again = await kiosque.post_form("/borne/arrivees", {"code": rdv.code})
    assert "déjà enregistrée" in t(again)
    assert await Ticket.count().where(Ticket.rdv == rdv.id) == 1


async def test_check_in_refusals_are_plain_french_messages_next_to_the_code(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    ailleurs = await site_avec_files()
    kiosque = borne(new_browser, lieu.borne_jeton)
    inconnu = await kiosque.post_form("/borne/arrivees", {"code": "ZZZZZZZZ"})
    assert inconnu.status_code == 404
    assert "ne correspond à aucun rendez-vous" in t(inconnu)
    assert 'aria-invalid="true"' in t(inconnu)

    autre_site = await rdv_du_jour(ailleurs)
    page = await kiosque.post_form("/borne/arrivees", {"code": autre_site.code})
    assert page.status_code == 409 and "a lieu à un autre endroit" in t(page)

    demain = await rdv_du_jour(lieu, debut=datetime.now(UTC) + timedelta(days=2))
    page = await kiosque.post_form("/borne/arrivees", {"code": demain.code})
    assert page.status_code == 409 and "pas aujourd'hui" in t(page)
    anglais = await kiosque.post_form("/borne/arrivees", {"code": demain.code, "lang": "en"})
    assert "This appointment is not today." in t(anglais)

    vide = await kiosque.post_form("/borne/arrivees", {"code": "  "})
    assert vide.status_code == 422 and "Saisissez le code" in t(vide)
    assert await Ticket.count().where(Ticket.file.site == lieu.site.id) == 0
    assert await Rdv.count().where(Rdv.arrive_at.is_not_null(), Rdv.site == lieu.site.id) == 0


# --- The screen ------------------------------------------------------------------------------


async def test_the_screen_draws_the_calls_and_counts_and_never_a_person(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    _, jeton = await factories.appareil(lieu.site, "ecran")
    rdv = await rdv_du_jour(lieu, prenom="Zoé", nom="Personnelle", telephone="+33698765432")
    kiosque = borne(new_browser, lieu.borne_jeton)
    await kiosque.post_form("/borne/arrivees", {"code": rdv.code})
    await kiosque.post_form("/borne/tickets", {"file": lieu.autre_file.id})
    agent: Browser = new_browser()
    await agent.sign_in(lieu.agents[0].email)
    guichet = lieu.guichets[0].id
    await agent.post_json(f"/api/guichets/{guichet}/ouvrir", {"files": [lieu.file.id]})
    assert (await agent.post_json(f"/api/guichets/{guichet}/appeler-suivant")).status_code == 200

    page = await borne(new_browser, jeton).http.get("/ecran")
    assert page.status_code == 200
    assert re.search(r'class="appel-ticket">A001</span>.*Guichet 1', page.text, re.S)
    assert re.search(rf'data-attente-file="{lieu.autre_file.id}">1<', page.text)
    assert "/static/js/ecran.js" in t(page)
    for personnel in ("Zoé", "Personnelle", "98765432", rdv.code, "Camille"):
        assert personnel not in t(page)


# --- The counter console ---------------------------------------------------------------------


async def console_ouverte(new_browser: Any, lieu: SiteFile, index: int = 0) -> Browser:
    agent: Browser = new_browser()
    await agent.sign_in(lieu.agents[index].email)
    opened = await agent.post_form(
        f"/guichet/{lieu.site.id}/ouvrir",
        {"guichet": lieu.guichets[index].id, "files": [str(lieu.file.id), str(lieu.autre_file.id)]},
    )
    assert opened.status_code == 303, opened.text
    return agent


async def test_an_agent_opens_a_counter_then_calls_serves_transfers_and_ends_tickets(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    kiosque = borne(new_browser, lieu.borne_jeton)
    for _ in range(2):
        await kiosque.post_form("/borne/tickets", {"file": lieu.file.id})
    agent: Browser = new_browser()
    await agent.sign_in(lieu.agents[0].email)
    choix = await agent.http.get("/guichet")
    assert choix.status_code == 303 and choix.headers["location"] == f"/guichet/{lieu.site.id}"
    page = await agent.http.get(f"/guichet/{lieu.site.id}")
    assert "Ouvrir le guichet" in t(page) and "A001" in t(page) and "A002" in t(page)

    agent = await console_ouverte(new_browser, lieu)
    called = await agent.post_form(f"/guichet/{lieu.site.id}/suivant", {})
    assert called.status_code == 303
    page = await agent.http.get(called.headers["location"])
    assert "Ticket A001 appelé." in t(page)
    assert "Mon guichet : 1" in t(page) and "Commencer" in t(page)

    a001 = await une(Ticket.select().where(Ticket.file == lieu.file.id, Ticket.code == "A001"))
    base = f"/guichet/{lieu.site.id}/tickets/{a001['id']}"
    for action, statut in (("rappeler", "appele"), ("commencer", "en_cours")):
        done = await agent.post_form(f"{base}/{action}", {})
        assert done.status_code == 303, done.text
        assert (await une(Ticket.select(Ticket.statut).where(Ticket.id == a001["id"])))[
            "statut"
        ] == statut
    moved = await agent.post_form(f"{base}/transferer", {"file": lieu.autre_file.id})
    assert moved.status_code == 303
    row = await une(Ticket.select().where(Ticket.id == a001["id"]))
    assert row["file_actuelle"] == lieu.autre_file.id and row["statut"] == StatutTicket.en_attente

    await agent.post_form(f"{base}/appeler", {})
    ended = await agent.post_form(f"{base}/terminer", {})
    assert ended.status_code == 303
    assert (await une(Ticket.select(Ticket.statut).where(Ticket.id == a001["id"])))[
        "statut"
    ] == StatutTicket.termine
    closed = await agent.post_form(f"/guichet/{lieu.site.id}/fermer", {})
    assert closed.status_code == 303
    assert (await une(Guichet.select(Guichet.agent).where(Guichet.id == lieu.guichets[0].id)))[
        "agent"
    ] is None


async def test_the_console_says_in_french_when_nobody_waits_or_another_counter_took_the_ticket(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    un = await console_ouverte(new_browser, lieu, 0)
    deux = await console_ouverte(new_browser, lieu, 1)
    personne = await un.post_form(f"/guichet/{lieu.site.id}/suivant", {})
    assert personne.status_code == 409
    assert "Personne n'attend dans les files de ce guichet." in t(personne)

    await borne(new_browser, lieu.borne_jeton).post_form("/borne/tickets", {"file": lieu.file.id})
    ticket = await une(Ticket.select().where(Ticket.file == lieu.file.id))
    await un.post_form(f"/guichet/{lieu.site.id}/tickets/{ticket['id']}/appeler", {})
    pris = await deux.post_form(f"/guichet/{lieu.site.id}/tickets/{ticket['id']}/appeler", {})
    assert pris.status_code == 409
    assert "Le ticket A001 n'est plus en attente." in t(pris)
    commencer = await deux.post_form(
        f"/guichet/{lieu.site.id}/tickets/{ticket['id']}/commencer", {}
    )
    assert commencer.status_code == 409 and "pris par un autre guichet" in t(commencer)
    row = await une(Ticket.select().where(Ticket.id == ticket["id"]))
    assert row["guichet"] == lieu.guichets[0].id and row["statut"] == StatutTicket.appele


async def test_the_console_is_refused_outside_the_agents_sites(new_browser: Any) -> None:
    lieu = await site_avec_files()
    voisin = await factories.site(lieu.territoire, services=[lieu.service])
    autre_territoire = await site_avec_files()
    etranger: Browser = new_browser()
    await etranger.sign_in((await factories.agent(lieu.territoire, sites=[voisin])).email)
    assert (await etranger.http.get(f"/guichet/{lieu.site.id}")).status_code == 403
    assert (await etranger.http.get(f"/guichet/{lieu.site.id}/attente")).status_code == 403
    refused = await etranger.post_form(
        f"/guichet/{lieu.site.id}/ouvrir",
        {"guichet": lieu.guichets[0].id, "files": [str(lieu.file.id)]},
    )
    assert refused.status_code == 403
    assert (await etranger.http.get(f"/guichet/{autre_territoire.site.id}")).status_code == 404
    anonyme: Browser = new_browser()
    redirect = await anonyme.http.get(f"/guichet/{lieu.site.id}")
    assert redirect.status_code in (302, 303) and "/connexion" in redirect.headers["location"]
    assert (await une(Guichet.select(Guichet.agent).where(Guichet.id == lieu.guichets[0].id)))[
        "agent"
    ] is None


async def test_the_reception_desk_checks_people_in_and_gives_priority_tickets(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    rdv = await rdv_du_jour(lieu)
    agent: Browser = new_browser()
    await agent.sign_in(lieu.agents[0].email)
    checked = await agent.post_form(f"/guichet/{lieu.site.id}/arrivees", {"code": rdv.code})
    assert checked.status_code == 303
    page = await agent.http.get(checked.headers["location"])
    assert re.search(r"Arrivée enregistrée \(rendez-vous de \d\d:\d\d\), ticket A001\.", page.text)

    unknown = await agent.post_form(f"/guichet/{lieu.site.id}/arrivees", {"code": "ZZZZZZZZ"})
    assert unknown.status_code == 404 and "ne correspond à aucun rendez-vous" in t(unknown)

    given = await agent.post_form(
        f"/guichet/{lieu.site.id}/accueil", {"file": lieu.autre_file.id, "carte": "on"}
    )
    assert given.status_code == 303
    page = await agent.http.get(given.headers["location"])
    assert "Ticket B001 donné" in t(page)
    ticket = await une(Ticket.select().where(Ticket.file == lieu.autre_file.id))
    assert ticket["priorite"] == Priorite.carte and ticket["origine"] == OrigineTicket.accueil
    assert "Carte de priorité" in t(page) and "Rendez-vous" in t(page)

    # A forged success message is not shown.
    forged = await agent.http.get(f"/guichet/{lieu.site.id}?fait=accueil&ticket=<b>x</b>")
    assert "<b>x</b>" not in forged.text and "donné" not in t(forged)


# --- A ticket's page and joining from home ---------------------------------------------------


async def test_the_ticket_page_follows_the_place_and_lets_the_holder_give_it_up(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    kiosque = borne(new_browser, lieu.borne_jeton)
    await kiosque.post_form("/borne/tickets", {"file": lieu.file.id})
    await kiosque.post_form("/borne/tickets", {"file": lieu.file.id})
    second = await une(Ticket.select().where(Ticket.file == lieu.file.id, Ticket.numero == 2))
    usager: Browser = new_browser()
    page = await usager.http.get(f"/ticket/{second['jeton']}")
    assert page.status_code == 200
    assert "1 personne est devant vous." in t(page)
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in t(page)
    assert "/static/js/ticket.js" in page.text

    gone = await usager.post_form(f"/ticket/{second['jeton']}/annuler", {})
    assert gone.status_code == 303
    page = await usager.http.get(gone.headers["location"])
    assert "Votre ticket est annulé." in t(page) and "Annulé" in t(page)
    again = await usager.post_form(f"/ticket/{second['jeton']}/annuler", {})
    assert again.status_code == 409 and "n'est plus en attente" in t(again)
    assert (await usager.http.get("/ticket/inconnu")).status_code == 404


async def test_joining_from_home_needs_a_valid_mobile_and_leads_to_the_ticket_page(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    usager: Browser = new_browser()
    page = await usager.http.get(f"/sites/{lieu.site.id}/file")
    assert page.status_code == 200 and "PMI" in t(page) and "Action sociale" in t(page)

    fixe = await usager.post_form(
        f"/sites/{lieu.site.id}/file", {"file": lieu.file.id, "telephone": "05 61 00 00 00"}
    )
    assert fixe.status_code == 422 and "un fixe ne reçoit pas les SMS" in t(fixe)
    faux = await usager.post_form(
        f"/sites/{lieu.site.id}/file", {"file": lieu.file.id, "telephone": "12"}
    )
    assert faux.status_code == 422 and "n'est pas valide" in t(faux)
    sans_file = await usager.post_form(
        f"/sites/{lieu.site.id}/file", {"telephone": "06 12 34 56 78"}
    )
    assert sans_file.status_code == 422 and "Choisissez une file" in t(sans_file)
    assert await Ticket.count().where(Ticket.file == lieu.file.id) == 0

    joined = await usager.post_form(
        f"/sites/{lieu.site.id}/file", {"file": lieu.file.id, "telephone": "0692 12 34 56"}
    )
    assert joined.status_code == 303
    ticket = await une(Ticket.select().where(Ticket.file == lieu.file.id))
    assert ticket["telephone"] == "+262692123456" and ticket["origine"] == OrigineTicket.distance
    assert joined.headers["location"] == f"/ticket/{ticket['jeton']}"
    page = await usager.http.get(joined.headers["location"])
    assert "692" not in t(page)

    twice = await usager.post_form(
        f"/sites/{lieu.site.id}/file", {"file": lieu.file.id, "telephone": "+262 692 12 34 56"}
    )
    assert twice.status_code == 409 and "déjà un ticket en attente" in t(twice)

    await fermer_aujourdhui(lieu)
    ferme = await usager.post_form(
        f"/sites/{lieu.site.id}/file", {"file": lieu.file.id, "telephone": "06 12 34 56 78"}
    )
    assert ferme.status_code == 422 and "Choisissez une file d'attente ouverte." in t(ferme)
