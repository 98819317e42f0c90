"""ASGI entry point for uvicorn: `uvicorn plateforme.asgi:app`."""

from plateforme.app import create_app

app = create_app()
