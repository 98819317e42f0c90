"""Which provider a territoire uses, built from a small configuration.

A configuration names the provider ("log", "smsfactor", "brevo", "smtp"), may override its
base URL (a sandbox, the tests' fake server) and gives the NAMES of the environment
variables holding its key and its webhook secret. Keys come from the environment only:
never from the database, never in a log line, never in a repr.

E-mail goes through one SMTP relay for the whole service, described by the environment:
`SMTP_URL` (`smtp://user@relay.example.org:587`, `smtps://...:465` for implicit TLS,
`?starttls=0` for a relay on localhost without TLS) and `SMTP_MOT_DE_PASSE`. A password in
the URL itself is refused.

`sms()` and `email()` raise `ConfigurationInvalide` (a missing variable, an unknown name);
`pour()`, which the outbox calls for every message, turns that into a provider whose every
send is an `ErreurTemporaire` saying what is missing: messages wait (and expire with their
rdv) while someone fixes the configuration, instead of failing for good.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from notifications.fournisseurs import brevo, smsfactor
from notifications.fournisseurs.base import (
    Accuse,
    ErreurTemporaire,
    FournisseurEmail,
    FournisseurSms,
    MessageEntrant,
    MessageSortant,
    Requete,
    Resultat,
    WebhookRefuse,
)
from notifications.fournisseurs.brevo import Brevo
from notifications.fournisseurs.journal import Journal
from notifications.fournisseurs.smsfactor import SmsFactor
from notifications.fournisseurs.smtp import Smtp

NOMS_SMS = ("log", "smsfactor", "brevo")
NOMS_EMAIL = ("log", "smtp")
SMTP_URL_ENV = "SMTP_URL"
SMTP_MOT_DE_PASSE_ENV = "SMTP_MOT_DE_PASSE"
# A misconfigured provider is retried after this long.
ATTENTE_CONFIGURATION = 600.0


class ConfigurationInvalide(ValueError):
    """A provider cannot be built: the message names what is missing, never a secret."""


@dataclass(frozen=True, slots=True)
class Config:
    nom: str
    # Base URL override; for "smtp", the relay's URL (see the module docstring).
    url: str = ""
    # NAME of the environment variable holding the API key (the password for "smtp").
    cle_env: str = ""
    # NAME of the environment variable holding the secret expected on webhooks.
    secret_webhook_env: str = ""
    timeout: float = 10.0


class ParametresFournisseurs(Protocol):
    """What `pour` reads of a territoire's notification settings."""

    @property
    def fournisseur_sms(self) -> str: ...
    @property
    def cle_sms_env(self) -> str: ...
    @property
    def secret_webhook_env(self) -> str: ...
    @property
    def url_sms(self) -> str: ...
    @property
    def fournisseur_email(self) -> str: ...


_client: httpx.AsyncClient | None = None
_clients: list[httpx.AsyncClient] = []
_suivant = itertools.count()

# The outbox worker keeps up to 50 sends in flight (envoi.CONCURRENCE). httpcore 1.0's pool
# walks all its connections, asking each whether it is idle for each of them, at every
# request and every release (O(n²) in the connections; encode/httpcore#1035, still open):
# one client keeping 50 connections alive spent more CPU on that bookkeeping than on the
# sends themselves. So the providers take in turn clients of a few connections each.
CLIENTS = 10
CONNEXIONS_PAR_CLIENT = 5
CONNEXIONS_MAX_PAR_CLIENT = 10


def utiliser_client(client: httpx.AsyncClient | None) -> None:
    """Install one HTTP client for every provider (tests); None goes back to our own."""
    global _client
    _client = client


def client_http() -> httpx.AsyncClient:
    """The HTTP client for the next provider: the one installed, else the next of ours."""
    if _client is not None and not _client.is_closed:
        return _client
    numero = next(_suivant) % CLIENTS
    while len(_clients) < CLIENTS:
        _clients.append(_nouveau_client())
    if _clients[numero].is_closed:
        _clients[numero] = _nouveau_client()
    return _clients[numero]


def _nouveau_client() -> httpx.AsyncClient:
    limites = httpx.Limits(
        max_connections=CONNEXIONS_MAX_PAR_CLIENT,
        max_keepalive_connections=CONNEXIONS_PAR_CLIENT,
    )
    return httpx.AsyncClient(timeout=10.0, limits=limites)


async def fermer_clients() -> None:
    """Close our HTTP clients and their connections (the process stops)."""
    clients = list(_clients)
    _clients.clear()
    for client in clients:
        await client.aclose()


# A territoire's admin names the variables holding its keys, but only among those the
# operator made for that purpose: otherwise naming SECRET_KEY (or another territoire's key)
# with an address of one's own would send that secret to it.
PREFIXE_VARIABLES = "RDV_SMS_"
# The provider addresses an admin may choose besides the providers' own (comma-separated
# prefixes, set by the operator: a sandbox, the tests' fake server).
URLS_AUTORISEES_ENV = "SMS_URLS_AUTORISEES"


def variable_autorisee(nom: str) -> bool:
    return nom.startswith(PREFIXE_VARIABLES) and nom.replace("_", "").isalnum() and nom.isupper()


def url_autorisee(url: str, environ: Mapping[str, str] = os.environ) -> bool:
    prefixes = [p.strip() for p in environ.get(URLS_AUTORISEES_ENV, "").split(",") if p.strip()]
    return any(url.startswith(prefixe) for prefixe in prefixes)


def _variable(nom: str, environ: Mapping[str, str], *, role: str) -> str:
    if not nom:
        raise ConfigurationInvalide(f"{role} : aucune variable d'environnement n'est nommée")
    if not variable_autorisee(nom):
        raise ConfigurationInvalide(
            f"{role} : la variable {nom} ne commence pas par {PREFIXE_VARIABLES}"
        )
    valeur = environ.get(nom, "")
    if not valeur:
        raise ConfigurationInvalide(f"{role} : la variable d'environnement {nom} est vide")
    return valeur


def sms(
    config: Config,
    *,
    client: httpx.AsyncClient | None = None,
    environ: Mapping[str, str] = os.environ,
) -> FournisseurSms:
    """The SMS provider of `config`."""
    if config.nom == "log":
        return Journal(canal="sms", afficher_texte=_developpement(environ))
    if config.nom not in NOMS_SMS:
        raise ConfigurationInvalide(f"fournisseur SMS inconnu : {config.nom!r}")
    cle = _variable(config.cle_env, environ, role=f"clé {config.nom}")
    secret = ""
    if config.secret_webhook_env:
        secret = _variable(config.secret_webhook_env, environ, role="secret des webhooks")
    if config.url and not url_autorisee(config.url, environ):
        raise ConfigurationInvalide(
            f"adresse {config.url} non autorisée (voir {URLS_AUTORISEES_ENV})"
        )
    if config.nom == "smsfactor":
        classe: type[SmsFactor] | type[Brevo] = SmsFactor
        url = config.url or smsfactor.URL
    else:
        classe, url = Brevo, config.url or brevo.URL
    return classe(
        cle=cle,
        client=client or client_http(),
        url_base=url,
        timeout=config.timeout,
        secret_webhook=secret,
    )


def email(config: Config, *, environ: Mapping[str, str] = os.environ) -> FournisseurEmail:
    """The e-mail provider of `config`."""
    if config.nom == "log":
        return Journal(canal="email", afficher_texte=_developpement(environ))
    if config.nom not in NOMS_EMAIL:
        raise ConfigurationInvalide(f"fournisseur d'e-mail inconnu : {config.nom!r}")
    return smtp_depuis_url(
        config.url,
        mot_de_passe=environ.get(config.cle_env, "") if config.cle_env else "",
        timeout=config.timeout,
    )


def smtp_depuis_url(url: str, *, mot_de_passe: str = "", timeout: float = 10.0) -> Smtp:
    """`smtp://user@host:587?starttls=0&domaine=cd31.fr` (no password in it) -> Smtp."""
    parties = urlsplit(url)
    if parties.scheme not in ("smtp", "smtps") or not parties.hostname:
        raise ConfigurationInvalide(
            "relais SMTP : URL smtp://hôte:port ou smtps://hôte:port attendue"
        )
    if parties.password is not None:
        raise ConfigurationInvalide(
            f"relais SMTP : pas de mot de passe dans l'URL, utilisez {SMTP_MOT_DE_PASSE_ENV}"
        )
    options = {cle: valeurs[-1] for cle, valeurs in parse_qs(parties.query).items()}
    tls = parties.scheme == "smtps"
    try:
        port = parties.port or (465 if tls else 587)
    except ValueError as error:
        raise ConfigurationInvalide("relais SMTP : port invalide") from error
    return Smtp(
        hote=parties.hostname,
        port=port,
        utilisateur=unquote(parties.username or ""),
        mot_de_passe=mot_de_passe,
        starttls=not tls and options.get("starttls", "1") not in ("0", "non", "false"),
        tls=tls,
        timeout=timeout,
        domaine=options.get("domaine", ""),
    )


def pour(
    parametres: ParametresFournisseurs,
    canal: str,
    *,
    environ: Mapping[str, str] = os.environ,
) -> FournisseurSms | FournisseurEmail:
    """The provider of a territoire for a channel ("sms" or "email"), for the outbox."""
    try:
        if canal == "sms":
            return sms(
                Config(
                    nom=parametres.fournisseur_sms,
                    url=parametres.url_sms,
                    cle_env=parametres.cle_sms_env,
                    secret_webhook_env=parametres.secret_webhook_env,
                ),
                environ=environ,
            )
        nom = parametres.fournisseur_email
        return email(
            Config(nom=nom, url=environ.get(SMTP_URL_ENV, ""), cle_env=SMTP_MOT_DE_PASSE_ENV),
            environ=environ,
        )
    except ConfigurationInvalide as error:
        nom = parametres.fournisseur_sms if canal == "sms" else parametres.fournisseur_email
        return Indisponible(nom, str(error))


class Indisponible:
    """A provider that cannot be built: every send waits for the configuration to be fixed."""

    def __init__(self, nom: str, raison: str) -> None:
        self.nom = nom
        self.raison = raison

    def __repr__(self) -> str:
        return f"Indisponible({self.nom!r}, {self.raison!r})"

    async def envoyer(self, message: MessageSortant) -> Resultat:
        raise ErreurTemporaire(f"configuration : {self.raison}", retry_after=ATTENTE_CONFIGURATION)

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        raise ErreurTemporaire(f"configuration : {self.raison}", retry_after=ATTENTE_CONFIGURATION)

    def lire_accuses(self, requete: Requete) -> list[Accuse]:
        raise WebhookRefuse(f"configuration : {self.raison}")

    def lire_entrants(self, requete: Requete) -> list[MessageEntrant]:
        raise WebhookRefuse(f"configuration : {self.raison}")


def _developpement(environ: Mapping[str, str]) -> bool:
    """Texts are logged only in development (the settings' default environment)."""
    return environ.get("ENVIRONMENT", "development") == "development"
