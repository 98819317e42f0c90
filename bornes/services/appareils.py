"""Devices: pairing, tokens, heartbeat, revocation.

Pairing: an unpaired device asks for a code; it gets a secret token (kept in
its cookie or its own storage) and a short code that it shows. A manager of
the site types the code in the admin within `VALIDITE_CODE`; from then on the
token is bound to the site. Only the SHA-256 of the token is stored: a copy of
the database gives no working token. Revoking is immediate: the next request
or socket message from the device is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bornes.tables import Appareil, KindAppareil
from plateforme import evenements
from plateforme.auth import Principal
from plateforme.db import write_transaction
from plateforme.errors import Forbidden, Invalid, NotFound, TooManyRequests
from sites.tables import Site

VALIDITE_CODE = timedelta(minutes=15)
# Unambiguous on a screen read from a few metres: no 0/O, 1/I/L.
ALPHABET_CODE = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LONGUEUR_CODE = 6
# New pairing requests accepted per minute, all devices together (the route is public).
DEMANDES_PAR_MINUTE = 30
# A device that has not been heard from for this long is shown offline.
HORS_LIGNE = timedelta(minutes=2)
# Heartbeats are written at most this often per device (pages ping every 25 s: one
# write in three; HORS_LIGNE leaves room for two missed).
BATTEMENT_MIN = timedelta(seconds=60)


def hacher(jeton: str) -> str:
    return hashlib.sha256(jeton.encode()).hexdigest()


def _maintenant() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Demande:
    appareil_id: int
    jeton: str
    code: str
    expire_at: datetime


@dataclass(frozen=True, slots=True)
class AppareilInfo:
    id: int
    site_id: int | None
    kind: str
    nom: str
    revoque: bool

    @property
    def appaire(self) -> bool:
        return self.site_id is not None and not self.revoque


async def demander_appairage(kind: KindAppareil) -> Demande:
    maintenant = _maintenant()
    async with write_transaction():
        recentes = await Appareil.count().where(
            Appareil.site.is_null(), Appareil.created_at > maintenant - timedelta(minutes=1)
        )
        if recentes >= DEMANDES_PAR_MINUTE:
            raise TooManyRequests("Trop de demandes d'appairage. Réessayez dans une minute.")
        # Unpaired requests nobody confirmed are of no use after a day.
        await Appareil.delete().where(
            Appareil.site.is_null(), Appareil.created_at < maintenant - timedelta(days=1)
        )
        jeton = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(ALPHABET_CODE) for _ in range(LONGUEUR_CODE))
        appareil = Appareil(
            kind=kind,
            jeton_hash=hacher(jeton),
            code_appairage=code,
            code_expire_at=maintenant + VALIDITE_CODE,
            created_at=maintenant,
        )
        await appareil.save()
    return Demande(appareil.id, jeton, code, maintenant + VALIDITE_CODE)


async def nouveau_code(jeton: str) -> Demande:
    """A fresh code for a device still unpaired whose code expired (same token)."""
    info = await authentifier(jeton)
    if info is None or info.site_id is not None or info.revoque:
        raise NotFound("Cet appareil n'attend pas d'appairage.", code="appareil_inconnu")
    maintenant = _maintenant()
    code = "".join(secrets.choice(ALPHABET_CODE) for _ in range(LONGUEUR_CODE))
    await Appareil.update(
        {Appareil.code_appairage: code, Appareil.code_expire_at: maintenant + VALIDITE_CODE}
    ).where(Appareil.id == info.id, Appareil.site.is_null())
    return Demande(info.id, jeton, code, maintenant + VALIDITE_CODE)


async def authentifier(jeton: str | None) -> AppareilInfo | None:
    if not jeton or len(jeton) > 200:
        return None
    row = (
        await Appareil.select(
            Appareil.id, Appareil.site, Appareil.kind, Appareil.nom, Appareil.revoque_at
        )
        .where(Appareil.jeton_hash == hacher(jeton))
        .first()
    )
    if row is None:
        return None
    return AppareilInfo(
        id=row["id"],
        site_id=row["site"],
        kind=row["kind"],
        nom=row["nom"],
        revoque=row["revoque_at"] is not None,
    )


async def _site_gere(principal: Principal, site_id: int) -> None:
    territoire = await Site.select(Site.territoire).where(Site.id == site_id).first()
    if territoire is None or territoire["territoire"] != principal.territoire_id:
        raise NotFound("Ce lieu n'existe pas.", code="site_inconnu")
    if not principal.manages_site(site_id):
        raise Forbidden(
            "Seuls les responsables de ce lieu et les administrateurs gèrent ses appareils."
        )


async def appairer(
    principal: Principal, site_id: int, code: str, nom: str, kind: KindAppareil
) -> dict[str, Any]:
    await _site_gere(principal, site_id)
    code = "".join(c for c in code.upper() if c.isalnum())
    nom = nom.strip()
    if not nom:
        raise Invalid(fields={"nom": "Donnez un nom à l'appareil (par exemple « Borne entrée »)."})
    maintenant = _maintenant()
    async with write_transaction():
        row = (
            await Appareil.select(Appareil.id)
            .where(
                Appareil.code_appairage == code,
                Appareil.site.is_null(),
                Appareil.revoque_at.is_null(),
                Appareil.code_expire_at > maintenant,
            )
            .first()
        )
        if row is None:
            raise Invalid(
                fields={
                    "code": "Ce code est inconnu ou a expiré. "
                    "Affichez un nouveau code sur l'appareil."
                }
            )
        await Appareil.update(
            {
                Appareil.site: site_id,
                Appareil.nom: nom[:100],
                Appareil.kind: kind,
                Appareil.appaire_at: maintenant,
                Appareil.code_appairage: None,
                Appareil.code_expire_at: None,
            }
        ).where(Appareil.id == row["id"])
    return {"id": row["id"], "site": site_id, "nom": nom, "kind": str(kind)}


async def revoquer(principal: Principal, appareil_id: int) -> None:
    row = await Appareil.select(Appareil.site).where(Appareil.id == appareil_id).first()
    if row is None or row["site"] is None:
        raise NotFound("Cet appareil n'existe pas.", code="appareil_inconnu")
    await _site_gere(principal, row["site"])
    await Appareil.update({Appareil.revoque_at: _maintenant()}).where(
        Appareil.id == appareil_id, Appareil.revoque_at.is_null()
    )
    # Its open sockets close at once, on every worker.
    evenements.publier(
        evenements.canal_appareil(appareil_id),
        {"type": "appareil.revoque", "appareil": appareil_id},
    )


async def lister(principal: Principal, site_id: int) -> list[dict[str, Any]]:
    await _site_gere(principal, site_id)
    rows = (
        await Appareil.select(
            Appareil.id,
            Appareil.kind,
            Appareil.nom,
            Appareil.appaire_at,
            Appareil.dernier_contact_at,
            Appareil.revoque_at,
        )
        .where(Appareil.site == site_id)
        .order_by(Appareil.kind)
        .order_by(Appareil.nom)
    )
    maintenant = _maintenant()
    for row in rows:
        if row["revoque_at"] is not None:
            row["etat"] = "révoqué"
        elif row["dernier_contact_at"] and maintenant - row["dernier_contact_at"] < HORS_LIGNE:
            row["etat"] = "en ligne"
        else:
            row["etat"] = "hors ligne"
    return rows


# When this process last wrote each device's heartbeat.
_ecrits: dict[int, datetime] = {}


async def battement(appareil_id: int) -> None:
    """Note that the device is alive, at most once per BATTEMENT_MIN.

    Most pings stop at the process's own memory: 1,200 screens pinging every 25 s
    would otherwise be 48 UPDATEs a second, each taking SQLite's write lock (even
    when it changes no row) and making the writers that come next wait in SQLite's
    busy handler. The UPDATE's own condition keeps the rule across workers.
    """
    maintenant = _maintenant()
    dernier = _ecrits.get(appareil_id)
    if dernier is not None and timedelta(0) <= maintenant - dernier < BATTEMENT_MIN:
        return
    _ecrits[appareil_id] = maintenant
    try:
        async with write_transaction():
            await Appareil.update({Appareil.dernier_contact_at: maintenant}).where(
                Appareil.id == appareil_id,
                Appareil.revoque_at.is_null(),
                (Appareil.dernier_contact_at.is_null())
                | (Appareil.dernier_contact_at < maintenant - BATTEMENT_MIN),
            )
    except BaseException:
        # Not written: the next ping tries again.
        if _ecrits.get(appareil_id) == maintenant:
            del _ecrits[appareil_id]
        raise
