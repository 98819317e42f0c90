"""Composition root of the service: settings, database, errors, auth, app factory, CLI."""
