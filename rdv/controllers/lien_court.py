"""The short link of the SMS: `/r/{code}/{cle}` opens the usager's rdv page."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import get
from litestar.response import Redirect

from plateforme.errors import NotFound


@get("/r/{code:str}/{cle:str}", include_in_schema=False, sync_to_thread=False)
def lien_court(code: str, cle: str) -> Redirect:
    if len(code) > 12 or len(cle) > 32 or not code.isalnum() or not cle.isalnum():
        raise NotFound()
    return Redirect(f"/rendez-vous/{code}?" + urlencode({"cle": cle}), status_code=302)
