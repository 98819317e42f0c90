"""A territoire's notification settings, as its admin changes them. Keys are never typed
here: only the names of the environment variables that hold them."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from notifications.fournisseurs import registre
from notifications.fournisseurs.registre import NOMS_EMAIL, NOMS_SMS
from notifications.services import sortie
from notifications.services.suivi import verifier_admin
from notifications.tables import ParametresNotification, RappelsMotif
from plateforme.auth import Principal
from plateforme.db import write_transaction
from plateforme.errors import FieldErrors
from rdv.tables import Motif

EXPEDITEUR = re.compile(r"^[A-Za-z0-9]{3,11}$")


def valeurs(p: sortie.Parametres) -> dict[str, Any]:
    return {
        "expediteur": p.expediteur,
        "fournisseur_sms": p.fournisseur_sms,
        "cle_sms_env": p.cle_sms_env,
        "secret_webhook_env": p.secret_webhook_env,
        "url_sms": p.url_sms,
        "fournisseur_email": p.fournisseur_email,
        "email_expediteur": p.email_expediteur,
        "rappels_heures": ", ".join(str(h) for h in p.rappels_heures),
        "silence_debut": p.silence_debut.strftime("%H:%M"),
        "silence_fin": p.silence_fin.strftime("%H:%M"),
    }


def lire_heures(texte: str, champ: str, errors: FieldErrors) -> list[int]:
    """Reminders as typed: "48, 2" (hours before the rdv), four at most."""
    heures: list[int] = []
    for morceau in texte.replace(";", ",").split(","):
        if not morceau.strip():
            continue
        try:
            heure = int(morceau)
        except ValueError:
            errors.add(champ, "Des nombres d'heures séparés par des virgules : 48, 2.")
            return []
        if not 1 <= heure <= 720:
            errors.add(champ, "Chaque rappel entre 1 et 720 heures avant.")
            return []
        heures.append(heure)
    if len(heures) > 4:
        errors.add(champ, "Quatre rappels au plus.")
    return sorted(set(heures), reverse=True)


def _heure(texte: str, champ: str, errors: FieldErrors) -> time | None:
    try:
        return time.fromisoformat(texte.strip())
    except ValueError:
        errors.add(champ, "Heure invalide : écrivez-la comme 20:00.")
        return None


def valider(donnees: dict[str, str]) -> dict[Any, Any]:
    errors = FieldErrors()
    expediteur = donnees.get("expediteur", "").strip()
    if not EXPEDITEUR.match(expediteur):
        errors.add("expediteur", "De 3 à 11 lettres ou chiffres, sans espace ni accent.")
    fournisseur = donnees.get("fournisseur_sms", "")
    if fournisseur not in NOMS_SMS:
        errors.add("fournisseur_sms", "Choisissez un fournisseur de la liste.")
    email = donnees.get("fournisseur_email", "")
    if email not in NOMS_EMAIL:
        errors.add("fournisseur_email", "Choisissez un mode d'envoi de la liste.")
    for champ in ("cle_sms_env", "secret_webhook_env"):
        nom = donnees.get(champ, "").strip()
        if nom and (len(nom) > 64 or not registre.variable_autorisee(nom)):
            errors.add(
                champ,
                f"Une variable préparée par l'exploitant : majuscules, chiffres et _, "
                f"commençant par {registre.PREFIXE_VARIABLES}.",
            )
        if not nom and fournisseur not in ("log", ""):
            errors.add(champ, "Obligatoire pour ce fournisseur.")
    url = donnees.get("url_sms", "").strip()
    if url and not registre.url_autorisee(url):
        errors.add(
            "url_sms",
            "Adresse non autorisée par l'exploitant : laissez vide pour celle du fournisseur.",
        )
    heures = lire_heures(donnees.get("rappels_heures", ""), "rappels_heures", errors)
    debut = _heure(donnees.get("silence_debut", ""), "silence_debut", errors)
    fin = _heure(donnees.get("silence_fin", ""), "silence_fin", errors)
    errors.raise_if_any()
    return {
        ParametresNotification.expediteur: expediteur,
        ParametresNotification.fournisseur_sms: fournisseur,
        ParametresNotification.cle_sms_env: donnees.get("cle_sms_env", "").strip(),
        ParametresNotification.secret_webhook_env: donnees.get("secret_webhook_env", "").strip(),
        ParametresNotification.url_sms: url,
        ParametresNotification.fournisseur_email: email,
        ParametresNotification.email_expediteur: donnees.get("email_expediteur", "").strip(),
        ParametresNotification.rappels_heures: heures,
        ParametresNotification.silence_debut: debut,
        ParametresNotification.silence_fin: fin,
    }


async def enregistrer(principal: Principal, donnees: dict[str, str]) -> None:
    verifier_admin(principal)
    values = valider(donnees)
    async with write_transaction():
        existe = await ParametresNotification.exists().where(
            ParametresNotification.territoire == principal.territoire_id
        )
        if existe:
            await ParametresNotification.update(values).where(
                ParametresNotification.territoire == principal.territoire_id
            )
        else:
            await ParametresNotification(
                territoire=principal.territoire_id,
                **{column._meta.name: value for column, value in values.items()},
            ).save()


async def motifs(principal: Principal) -> list[dict[str, Any]]:
    """The territoire's motifs, each with its own reminders ("" when it uses the territoire's)."""
    verifier_admin(principal)
    rows = (
        await Motif.select(Motif.id, Motif.nom, Motif.service.nom.as_alias("service"))
        .where(Motif.service.territoire == principal.territoire_id, Motif.actif.eq(True))
        .order_by(Motif.service.nom)
        .order_by(Motif.nom)
    )
    propres = {
        r["motif"]: r["rappels_heures"]
        for r in await RappelsMotif.select(RappelsMotif.motif, RappelsMotif.rappels_heures)
        .where(RappelsMotif.motif.is_in([m["id"] for m in rows] or [-1]))
        .output(load_json=True)
    }
    for row in rows:
        heures = propres.get(row["id"])
        row["rappels"] = "" if heures is None else ", ".join(str(h) for h in heures) or "aucun"
    return rows


async def enregistrer_motifs(principal: Principal, donnees: dict[str, str]) -> None:
    """`rappels_<motif id>`: hours, "aucun" for none, empty for the territoire's."""
    lignes = await motifs(principal)
    errors = FieldErrors()
    choix: dict[int, list[int] | None] = {}
    for ligne in lignes:
        champ = f"rappels_{ligne['id']}"
        texte = donnees.get(champ, "").strip()
        if not texte:
            choix[ligne["id"]] = None
        elif texte.lower() == "aucun":
            choix[ligne["id"]] = []
        else:
            choix[ligne["id"]] = lire_heures(texte, champ, errors)
    errors.raise_if_any()
    async with write_transaction():
        for motif_id, heures in choix.items():
            await RappelsMotif.delete().where(RappelsMotif.motif == motif_id)
            if heures is not None:
                await RappelsMotif(motif=motif_id, rappels_heures=heures).save()
