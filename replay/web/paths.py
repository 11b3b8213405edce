"""Where templates and built assets are, from a checkout or an installed wheel.

`replay/templates` is a link to the checkout's top-level `templates/`, so both
ship inside the package.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    return PACKAGE / "templates"


def static_dir() -> Path:
    return PACKAGE / "static"
