"""Where templates and built assets are, from a checkout or an installed wheel."""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def templates_dir() -> Path:
    checkout = PACKAGE.parent / "templates"
    return checkout if checkout.is_dir() else PACKAGE / "templates"


def static_dir() -> Path:
    return PACKAGE / "static"
