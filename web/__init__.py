"""The web layer: the app factory, blueprints, templates and CLI commands."""
from web.app import create_app

__all__ = ["create_app"]
