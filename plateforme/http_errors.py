"""The one place where errors become HTTP answers: JSON for programs, a page for people."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from plateforme.errors import DomainError, Forbidden, Invalid, NotAuthenticated, NotFound

logger = logging.getLogger("plateforme.errors")

_MISSING = re.compile(r"Missing required \w+ parameter '([^']+)'")
JSON_PREFIXES = ("/api/", "/health", "/ready", "/schema")

_TRANSLATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Missing required"), "obligatoire"),
    (re.compile(r"Expected `int`, got"), "doit être un nombre entier"),
    (re.compile(r"Expected `float`, got|Expected `number`"), "doit être un nombre"),
    (re.compile(r"Expected `bool`"), "doit valoir true ou false"),
    (re.compile(r"Expected `(int|float|number)` >= (\S+)"), r"doit être supérieur ou égal à \2"),
    (re.compile(r"Expected `(int|float|number)` <= (\S+)"), r"doit être inférieur ou égal à \2"),
    (
        re.compile(r"Expected `(str|array)` of length >= (\S+)"),
        r"doit compter au moins \2 caractères",
    ),
    (
        re.compile(r"Expected `(str|array)` of length <= (\S+)"),
        r"doit compter au plus \2 caractères",
    ),
    (re.compile(r"Invalid enum value"), "valeur non autorisée"),
    (re.compile(r"Invalid (RFC 3339 encoded )?date"), "date invalide (AAAA-MM-JJ attendu)"),
)


def _french(message: str) -> str:
    for pattern, replacement in _TRANSLATIONS:
        match = pattern.search(message)
        if match:
            return match.expand(replacement)
    return "valeur invalide"


def wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(JSON_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _render(
    request: Request[Any, Any, Any], error: DomainError, headers: dict[str, str] | None = None
) -> Response[Any]:
    if wants_json(request):
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.fields:
            body["fields"] = error.fields
        body.update(error.extra)
        return Response(
            body, status_code=error.status_code, media_type=MediaType.JSON, headers=headers
        )
    if isinstance(error, NotAuthenticated) and request.method == "GET":
        return Redirect(f"/connexion?suivant={quote(request.url.path)}")
    return Template(
        template_name="erreur.html",
        context={"erreur": error, "request": request},
        status_code=error.status_code,
        headers=headers,
    )


def _with_status(error: DomainError, status_code: int) -> DomainError:
    error.status_code = status_code
    return error


def domain_error_handler(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    headers = None
    if getattr(error, "retry_after", None):
        headers = {"Retry-After": str(error.retry_after)}  # type: ignore[attr-defined]
    return _render(request, error, headers)


def validation_handler(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[Any]:
    fields: dict[str, str] = {}
    extra = error.extra if isinstance(error.extra, list) else []
    for item in extra:
        key = str(item.get("key") or "corps")
        fields.setdefault(key, _french(str(item.get("message", ""))))
    if not fields:
        # Litestar names a missing parameter only in the detail text.
        missing = _MISSING.search(error.detail or "")
        if missing:
            fields[missing.group(1)] = "obligatoire"
        else:
            fields["corps"] = "contenu illisible"
    return _render(request, Invalid("Certaines valeurs sont invalides.", fields=fields))


def http_exception_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, NotFoundException):
        return _render(request, NotFound("Cette page n'existe pas."))
    if isinstance(error, PermissionDeniedException):
        if "CSRF" in (error.detail or ""):
            return _render(
                request,
                Forbidden(
                    "Le formulaire a expiré. Rechargez la page et recommencez.",
                    code="csrf_invalide",
                ),
            )
        return _render(request, Forbidden())
    if isinstance(error, NotAuthorizedException):
        return _render(request, NotAuthenticated())
    if isinstance(error, MethodNotAllowedException):
        return _render(
            request,
            _with_status(DomainError("Méthode non autorisée.", code="methode_non_autorisee"), 405),
        )
    if error.status_code >= 500:
        return internal_error_handler(request, error)
    return _render(request, _with_status(DomainError(), error.status_code))


def internal_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    failure = DomainError(
        "Une erreur inattendue s'est produite. Réessayez dans un instant.", code="erreur_interne"
    )
    return _render(request, _with_status(failure, HTTP_500_INTERNAL_SERVER_ERROR))


def overflow_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Dates near year 1 or 9999, ids beyond 64 bits: out of range, not a server error."""
    return _render(
        request, Invalid("Une valeur est hors des limites permises.", code="hors_limites")
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    OverflowError: overflow_handler,
    # asyncpg's refusal of a query argument (an id beyond 64 bits): the same answer.
    asyncpg.DataError: overflow_handler,
    ValidationException: validation_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
