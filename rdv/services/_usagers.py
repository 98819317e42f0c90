"""Who books and who comes: the usager giving their mobile, and the relative (proche) they
may book for. Checked before anything is written; found again rather than duplicated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from plateforme.db import lignes
from plateforme.errors import FieldErrors, Invalid
from plateforme.telephones import mobile_e164
from rdv.tables import Usager
from sites.services.communes import normalise

EMAIL_MAX = 255
NOM_MAX = 100
# Nobody alive was born before this: a typo in the year, not an old person.
NAISSANCE_MIN = date(1900, 1, 1)


@dataclass(frozen=True)
class Personne:
    prenom: str
    nom: str
    telephone: str
    email: str = ""


@dataclass(frozen=True)
class Proche:
    """A relative the usager books for: they come, the usager is the contact."""

    prenom: str
    nom: str
    date_naissance: date | None = None


def _noms(errors: FieldErrors, prenom: str, nom: str, prefixe: str, qui: str) -> None:
    if not prenom:
        errors.add(f"{prefixe}prenom", f"Le prénom{qui} est obligatoire.")
    elif len(prenom) > NOM_MAX:
        errors.add(f"{prefixe}prenom", f"{NOM_MAX} caractères au plus.")
    if not nom:
        errors.add(f"{prefixe}nom", f"Le nom{qui} est obligatoire.")
    elif len(nom) > NOM_MAX:
        errors.add(f"{prefixe}nom", f"{NOM_MAX} caractères au plus.")


def valider_personne(personne: Personne) -> Personne:
    """Trimmed names, a mobile in E.164, an e-mail if given; Invalid lists every bad field."""
    errors = FieldErrors()
    prenom, nom = personne.prenom.strip(), personne.nom.strip()
    _noms(errors, prenom, nom, "", "")
    telephone = ""
    try:
        telephone = mobile_e164(personne.telephone)
    except Invalid as error:
        errors.errors.update(error.fields)
    email = personne.email.strip().lower()
    if email and (
        "@" not in email or "." not in email.rsplit("@", 1)[-1] or len(email) > EMAIL_MAX
    ):
        errors.add("email", "Adresse e-mail invalide (exemple : prenom.nom@exemple.fr).")
    errors.raise_if_any()
    return Personne(prenom=prenom, nom=nom, telephone=telephone, email=email)


def valider_proche(proche: Proche, aujourd_hui: date) -> Proche:
    """Trimmed names and a plausible birth date; the fields are named proche_*."""
    errors = FieldErrors()
    prenom, nom = proche.prenom.strip(), proche.nom.strip()
    _noms(errors, prenom, nom, "proche_", " du proche")
    naissance = proche.date_naissance
    if naissance is not None and naissance > aujourd_hui:
        errors.add("proche_date_naissance", "La date de naissance ne peut pas être à venir.")
    elif naissance is not None and naissance < NAISSANCE_MIN:
        errors.add("proche_date_naissance", "Vérifiez l'année de la date de naissance.")
    errors.raise_if_any()
    return Proche(prenom=prenom, nom=nom, date_naissance=naissance)


def valider(
    personne: Personne, proche: Proche | None, aujourd_hui: date
) -> tuple[Personne, Proche | None]:
    """Both checked at once, so that the form shows every error in one go."""
    errors = FieldErrors()
    try:
        personne = valider_personne(personne)
    except Invalid as error:
        errors.errors.update(error.fields)
    if proche is not None:
        try:
            proche = valider_proche(proche, aujourd_hui)
        except Invalid as error:
            errors.errors.update(error.fields)
    errors.raise_if_any()
    return personne, proche


def memes_noms(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """The same first and last names, whatever the case, accents and spaces."""
    return (normalise(a[0]), normalise(a[1])) == (normalise(b[0]), normalise(b[1]))


async def contact(territoire_id: int, personne: Personne) -> int:
    """The usager of this territoire with this phone and name, or a new one."""
    # Every booking asks, in its write transaction: one query written once.
    same_phone = await lignes(
        "SELECT id, prenom, nom, email FROM usager WHERE territoire = {} AND telephone = {}",
        territoire_id,
        personne.telephone,
    )
    wanted = (personne.prenom, personne.nom)
    existing = next((u for u in same_phone if memes_noms((u[1], u[2]), wanted)), None)
    if existing is not None:
        usager_id, _prenom, _nom, email = existing
        # Fill a missing e-mail only: anyone knowing a person's name and phone
        # could otherwise redirect that person's messages to themselves.
        if personne.email and not email:
            await Usager.update({Usager.email: personne.email}).where(Usager.id == usager_id)
        return int(usager_id)
    usager = Usager(
        territoire=territoire_id,
        prenom=personne.prenom,
        nom=personne.nom,
        telephone=personne.telephone,
        email=personne.email,
    )
    await usager.save()
    return int(usager.id)


async def proche_de(territoire_id: int, responsable_id: int, proche: Proche) -> int:
    """The responsable's relative with these names, or a new one. A known relative keeps
    their birth date; a missing one is filled in."""
    rows = await Usager.select(Usager.id, Usager.prenom, Usager.nom, Usager.date_naissance).where(
        Usager.territoire == territoire_id, Usager.responsable == responsable_id
    )
    wanted = (proche.prenom, proche.nom)
    existing = next((u for u in rows if memes_noms((u["prenom"], u["nom"]), wanted)), None)
    if existing is not None:
        if proche.date_naissance and not existing["date_naissance"]:
            await Usager.update({Usager.date_naissance: proche.date_naissance}).where(
                Usager.id == existing["id"]
            )
        return int(existing["id"])
    # No phone of their own: messages go to the responsable.
    usager = Usager(
        territoire=territoire_id,
        prenom=proche.prenom,
        nom=proche.nom,
        date_naissance=proche.date_naissance,
        responsable=responsable_id,
    )
    await usager.save()
    return int(usager.id)


async def participant(territoire_id: int, personne: Personne, proche: Proche | None) -> int:
    """The usager who comes: the person themself, or their relative."""
    responsable_id = await contact(territoire_id, personne)
    if proche is None:
        return responsable_id
    return await proche_de(territoire_id, responsable_id, proche)
