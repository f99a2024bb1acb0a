"""The page templates and what a page handler raises to send the browser to the login page.

Shared by the application (error pages) and the page handlers, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from intake import __version__
from intake.web import labels

WEB_DIR = Path(__file__).resolve().parent

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.globals.update(labels=labels, show=labels.show, version=__version__)


class LoginRequired(Exception):
    """A page needs a logged-in user: send the browser to the login page."""
