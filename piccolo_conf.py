"""Piccolo configuration: the engine comes from the same settings as the app."""

from piccolo.conf.apps import AppRegistry

from plateforme.db import build_engine
from plateforme.settings import get_settings

DB = build_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=[
        "sites.piccolo_app",
        "rdv.piccolo_app",
        "file_attente.piccolo_app",
        "bornes.piccolo_app",
        "notifications.piccolo_app",
    ])
