"""How a device proves who it is: its token, in an `Authorization: Bearer` header (API,
other kiosk software) or in the `rdv_appareil` cookie set by its own pages."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from bornes.services import appareils
from bornes.services.appareils import AppareilInfo
from plateforme.errors import Forbidden, NotAuthenticated

COOKIE = "rdv_appareil"


def jeton(connection: ASGIConnection[Any, Any, Any, Any], *, cookie: bool) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if cookie:
        return connection.cookies.get(COOKIE)
    return None


class AppareilInconnu(NotAuthenticated):
    code = "appareil_inconnu"
    default_message = "Appareil inconnu : appairez-le depuis l'administration du lieu."


class AppareilRevoque(Forbidden):
    code = "appareil_revoque"
    default_message = "Cet appareil a été retiré du lieu."


class AppareilNonAppaire(Forbidden):
    code = "appareil_non_appaire"
    default_message = "Cet appareil attend encore son appairage."


def exiger(info: AppareilInfo | None, kind: str | None = None) -> AppareilInfo:
    if info is None:
        raise AppareilInconnu()
    if info.revoque:
        raise AppareilRevoque()
    if info.site_id is None:
        raise AppareilNonAppaire()
    if kind is not None and info.kind != kind:
        raise Forbidden("Cet appareil n'est pas une borne.", code="pas_une_borne")
    return info


async def provide_appareil_api(request: Any) -> AppareilInfo:
    """Dependency of the JSON API: the header only, so that no cross-site form can use the
    cookie (the API is exempt from the CSRF token)."""
    return exiger(await appareils.authentifier(jeton(request, cookie=False)))
