"""Retention: old usagers' contact details and old message texts go; counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifications.services import retention, sortie
from notifications.tables import Canal, Message
from plateforme.db import write_transaction
from rdv.tables import Rdv, RdvParticipant, Usager
from tests import factories


async def _rdv(lieu: dict, usager: Usager, debut: datetime) -> Rdv:
    row = Rdv(
        motif=lieu["motif"].id,
        site=lieu["site"].id,
        agent=lieu["agent"].id,
        debut=debut,
        fin=debut + timedelta(minutes=30),
        code=factories.code()[:8],
        statut="vu",
    )
    await row.save()
    await RdvParticipant(rdv=row.id, usager=usager.id).save()
    return row


async def test_old_contact_details_and_message_texts_are_removed() -> None:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    lieu = {
        "site": await factories.site(territoire, services=[service]),
        "motif": await factories.motif(service),
    }
    lieu["agent"] = await factories.agent(territoire, sites=[lieu["site"]])
    maintenant = datetime.now(UTC)
    ancien = await factories.usager(territoire, prenom="Jeanne", email="j@exemple.fr")
    recent = await factories.usager(territoire, prenom="Paul", telephone="+33622222222")
    mixte = await factories.usager(territoire, prenom="Inès", telephone="+33633333333")
    old_rdv = await _rdv(lieu, ancien, maintenant - timedelta(days=800))
    await _rdv(lieu, recent, maintenant - timedelta(days=30))
    await _rdv(lieu, mixte, maintenant - timedelta(days=900))
    await _rdv(lieu, mixte, maintenant + timedelta(days=3))

    p = await sortie.parametres(territoire.id)
    async with write_transaction():
        await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="rappel",
            destinataire="+33611111111",
            texte="Rappel PMI",
            cle=f"ret:{territoire.id}",
            du_at=maintenant,
            rdv=old_rdv.id,
        )
    await Message.update(
        {Message.created_at: maintenant - timedelta(days=200), Message.statut: "envoye"}
    ).where(Message.cle == f"ret:{territoire.id}")

    rapport = await retention.appliquer(maintenant)
    assert rapport.usagers >= 1 and rapport.messages >= 1
    rows = {
        r["id"]: r
        for r in await Usager.select().where(Usager.id.is_in([ancien.id, recent.id, mixte.id]))
    }
    assert (rows[ancien.id]["nom"], rows[ancien.id]["telephone"], rows[ancien.id]["email"]) == (
        "Anonyme",
        "",
        "",
    )
    assert rows[recent.id]["prenom"] == "Paul" and rows[recent.id]["telephone"] == "+33622222222"
    assert rows[mixte.id]["prenom"] == "Inès"
    # The rdv and its status stay for the indicators.
    assert await Rdv.count().where(Rdv.id == old_rdv.id, Rdv.statut == "vu") == 1
    message = await Message.select().where(Message.cle == f"ret:{territoire.id}").first()
    assert (message["texte"], message["destinataire"], message["statut"], message["segments"]) == (
        "",
        "",
        "envoye",
        1,
    )
    # A second run finds nothing more of ours to change.
    await retention.appliquer(maintenant)
    assert await Usager.count().where(Usager.id == recent.id, Usager.prenom == "Paul") == 1
