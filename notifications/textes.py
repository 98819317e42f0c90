"""SMS texts: GSM-7, segments, and templates that fit one segment. Pure code.

An SMS is one 160-character segment in the GSM 03.38 7-bit alphabet; a single
character outside it (â, ê, ô, ç, œ, the typographic apostrophe...) switches
the whole message to UCS-2, 70 characters a segment, and a French reminder
then costs two or three SMS. So texts are first brought into GSM-7 (â → a,
ç → c, ’ → ', « » → "), then measured; the templates shorten their longest
free parts (the site's name, then the service's) to stay within 160.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASE = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each of these takes two septets (escape + character).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

REMPLACEMENTS = {
    "â": "a",
    "á": "a",
    "ã": "a",
    "À": "A",
    "Â": "A",
    "Á": "A",
    "ç": "c",
    "ê": "e",
    "ë": "e",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "î": "i",
    "ï": "i",
    "í": "i",
    "Î": "I",
    "Ï": "I",
    "ô": "o",
    "ó": "o",
    "õ": "o",
    "Ô": "O",
    "û": "u",
    "ú": "u",
    "Ù": "U",
    "Û": "U",
    "ÿ": "y",
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "“": '"',
    "”": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "‑": "-",
    "…": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
}

SEGMENT_GSM7 = 160
SEGMENT_GSM7_MULTI = 153
SEGMENT_UCS2 = 70
SEGMENT_UCS2_MULTI = 67


# str.translate does the replacements in C: every message of every booking goes through it.
_VERS_GSM7 = str.maketrans(REMPLACEMENTS)
_GSM7 = GSM7_BASE | GSM7_EXTENSION


def vers_gsm7(texte: str) -> str:
    """The text with the characters GSM-7 lacks replaced when a plain equivalent exists."""
    return texte.translate(_VERS_GSM7)


def est_gsm7(texte: str) -> bool:
    return _GSM7.issuperset(texte)


@dataclass(frozen=True, slots=True)
class Mesure:
    encodage: str  # "gsm7" or "ucs2"
    unites: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def mesurer(texte: str) -> Mesure:
    if est_gsm7(texte):
        unites = len(texte) + sum(texte.count(c) for c in GSM7_EXTENSION)
        simple, multi, encodage = SEGMENT_GSM7, SEGMENT_GSM7_MULTI, "gsm7"
    else:
        unites = len(texte.encode("utf-16-le")) // 2
        simple, multi, encodage = SEGMENT_UCS2, SEGMENT_UCS2_MULTI, "ucs2"
    segments = 1 if unites <= simple else math.ceil(unites / multi)
    return Mesure(encodage, unites, max(segments, 1))


def _couper(valeur: str, longueur: int) -> str:
    if len(valeur) <= longueur:
        return valeur
    if longueur <= 3:
        return valeur[:longueur]
    return valeur[: longueur - 3].rstrip(" ,-'") + "..."


# Shortest a free part may become before the next one is shortened.
MINIMUM = 12


def composer(gabarit: str, champs: dict[str, str], compressibles: tuple[str, ...]) -> str:
    """Fill `gabarit`, in GSM-7, shortening the `compressibles` fields (in that order) until
    the text fits one segment; a text that cannot fit is returned at its shortest."""
    valeurs = {k: vers_gsm7(v) for k, v in champs.items()}
    texte = vers_gsm7(gabarit.format(**valeurs))
    for nom in compressibles:
        exces = mesurer(texte).unites - SEGMENT_GSM7
        if exces <= 0:
            break
        actuel = valeurs[nom]
        valeurs[nom] = _couper(actuel, max(MINIMUM, len(actuel) - exces))
        texte = vers_gsm7(gabarit.format(**valeurs))
    # A shortened part before a full stop: "Mairie de..." not "Mairie de....".
    return texte.replace("....", "...")
