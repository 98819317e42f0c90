"""What a person typed in the public search: a commune name, a postcode or an INSEE code."""

from __future__ import annotations

from dataclasses import dataclass, field

from plateforme.errors import Invalid, NotFound
from sites.services import proximite
from sites.services.communes import normalise
from sites.tables import Service


@dataclass(frozen=True)
class Recherche:
    """Either a place was found (`point`), or several communes match and the person picks one."""

    point: proximite.Point | None = None
    choix: list[proximite.CommuneTrouvee] = field(default_factory=list)


async def services_publics() -> list[tuple[str, str]]:
    """(code, name) of the services that some territoire offers, for the search form."""
    rows = await Service.select(Service.code, Service.nom).order_by(Service.nom)
    seen: dict[str, str] = {}
    for row in rows:
        seen.setdefault(row["code"], row["nom"])
    return sorted(seen.items(), key=lambda item: item[1])


async def lire_lieu(saisie: str) -> Recherche:
    """Find the place a person typed, or the communes they may have meant."""
    texte = saisie.strip()
    if len(texte) < 2:
        raise Invalid(
            fields={"lieu": "Tapez au moins 2 caractères : une commune ou un code postal."}
        )
    if (texte.isascii() and texte.isdigit()) and len(texte) == 5:
        for kind in ("code_postal", "commune"):
            try:
                point = await proximite.resoudre_point(
                    commune=texte if kind == "commune" else None,
                    code_postal=texte if kind == "code_postal" else None,
                    lat=None,
                    lon=None,
                )
            except NotFound:
                continue
            return Recherche(point=point)
        raise Invalid(fields={"lieu": f"Aucune commune n'a le code {texte}."})
    candidats = await proximite.autocomplete_communes(texte, limite=10)
    exacts = [c for c in candidats if normalise(c.nom) == normalise(texte)]
    if len(exacts) == 1 or len(candidats) == 1:
        choisie = exacts[0] if len(exacts) == 1 else candidats[0]
        return Recherche(
            point=await proximite.resoudre_point(
                commune=choisie.insee, code_postal=None, lat=None, lon=None
            )
        )
    if not candidats:
        raise Invalid(fields={"lieu": f"Aucune commune ne correspond à « {texte} »."})
    return Recherche(choix=candidats)
