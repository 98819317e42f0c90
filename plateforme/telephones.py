"""Mobile phone numbers for SMS: French national formats, +33, and the overseas départements.

Kept in plateforme because both booking (rdv) and the kiosks need to refuse a
bad number the moment it is typed, before notifications ever sees it.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from plateforme.errors import Invalid

# phonenumbers with region "FR" rejects national-format overseas mobiles
# (0692 Réunion, 0639 Mayotte, 0690 Guadeloupe, 0696 Martinique, 0694 Guyane):
# they belong to other regions, tried in turn.
REGIONS = ("FR", "RE", "YT", "GP", "MQ", "GF")
MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def mobile_e164(raw: str, *, field: str = "telephone") -> str:
    """The number in E.164 ("+33612345678"), or Invalid with a French message on `field`."""
    text = raw.strip()
    if not text:
        raise Invalid(fields={field: "Le numéro de téléphone portable est obligatoire."})
    digits = "".join(c for c in text if c.isdigit())
    if not text.startswith(("+", "00")) and not text.startswith("0") and len(digits) > 10:
        raise Invalid(
            fields={field: "Pour un numéro étranger, commencez par + et l'indicatif du pays."}
        )
    candidates = []
    for region in REGIONS if not text.startswith(("+", "00")) else ("FR",):
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            candidates.append(number)
            break
    if not candidates:
        raise Invalid(
            fields={field: "Ce numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78)."}
        )
    number = candidates[0]
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise Invalid(
            fields={field: "Donnez un numéro de portable : un fixe ne reçoit pas les SMS."}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def affichage(e164: str) -> str:
    """The national format people read ("06 12 34 56 78"), international abroad."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if number.country_code in {33, 262, 590, 594, 596}:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
