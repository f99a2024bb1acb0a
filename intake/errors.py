"""What went wrong, in one hierarchy, and what each kind becomes for the CLI and for the web.

Every error a person may see is an `IntakeError` with a French `message`. The front doors do not
decide codes one by one: the CLI asks `exit_code(exc)` (CONTRACT.md: 0 complete, 1 incomplete or
needs review, 2 the command could not run) and the web asks `http_status(exc)`, each from one table
below, by the first class of the error's MRO found in it.

What is not here on purpose: a broken *piece* (corrupt file, unreadable page, a tesseract timeout on
one page) is never an error of the command, it is a finding of the dossier (intake.documents).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    findings = 1  # the dossier is incomplete or needs review; a refusal the rules give
    error = 2  # the command could not run


class IntakeError(Exception):
    """Base of every error a person may read; `message` is French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(IntakeError):
    """What was given is not acceptable: arguments, `dossier.json`, a form, a request body."""


class NotFound(IntakeError):
    """The dossier, piece or finding named does not exist (or is not the caller's)."""


class Forbidden(IntakeError):
    """The caller may not do this."""


class Conflict(IntakeError):
    """The action does not fit the current state (claimed by someone else, already decided)."""


class Refused(IntakeError):
    """A well-formed request the rules refuse (the export of a dossier that is not complete)."""


class TooLarge(IntakeError):
    """A file or request over its limit."""


class ServiceUnavailable(IntakeError):
    """The database, the broker or the workers do not answer; trying again later may work."""


class ToolMissing(ServiceUnavailable):
    """A program, language or font intake needs is not installed (`intake doctor` says what)."""


class ExternalToolFailed(IntakeError):
    """tesseract, poppler or zxing failed or ran out of time outside any one page."""


#: error class -> exit status of the `intake` command
EXIT_CODES: dict[type[IntakeError], ExitCode] = {
    Refused: ExitCode.findings,
    IntakeError: ExitCode.error,
}

#: error class -> HTTP status of the web service and API
HTTP_STATUS: dict[type[IntakeError], int] = {
    InputError: 422,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Refused: 409,
    TooLarge: 413,
    ToolMissing: 503,
    ServiceUnavailable: 503,
    ExternalToolFailed: 502,
    IntakeError: 400,
}


def _lookup(exc: BaseException, table: dict) -> object:
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    raise KeyError(type(exc).__name__)


def exit_code(exc: IntakeError) -> ExitCode:
    return _lookup(exc, EXIT_CODES)  # type: ignore[return-value]


def http_status(exc: IntakeError) -> int:
    return _lookup(exc, HTTP_STATUS)  # type: ignore[return-value]
