"""The engine's errors as Python exceptions, one class per stable code.

Every exception the module raises for an engine error is an instance of ``Error`` with
``.code`` (the stable spelling, as in the JSON error object and the HTTP service),
``.number`` (the engine's numeric code, as in the ``status`` arrays of the vectorised
calls), ``.status`` (the HTTP status the service would answer), ``.message`` (the same
text the CLI prints) and ``.suggestion`` (a proposed correction of what the caller gave, as
"SW1A 1AA" for "SWIA 1AA", or None). Subclasses also derive from the built-in exception a
Python caller would expect to catch: ``ValueError`` for input that is wrong in form,
``LookupError`` for something well formed that is not there, ``OSError`` for a file that
cannot be read.

Codes are append-only (engine/include/hloc/error.hpp); a code this module does not know
yet still raises a plain ``Error`` with its code and message.
"""

from __future__ import annotations

import enum  # not typing: importing it costs more than the rest of the package


class Error(Exception):
    """An error from the hospital-locator engine."""

    #: The stable spelling of the code: "invalid_postcode", "bad_index", ...
    code: str = "internal"
    #: The engine's numeric code (engine/include/hloc/error.hpp); 0 is never an error.
    number: int = 11

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 suggestion: str | None = None):
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion
        if code is not None:
            self.code = code
            self.number = Status[code.upper()].value if code.upper() in Status.__members__ else 0
        self.status = status if status is not None else _HTTP_STATUS.get(self.code, 500)

    def to_dict(self) -> dict[str, dict[str, object]]:
        """The DESIGN.md error object: {"error": {"code", "message", "status"}}, and
        "suggestion" when there is one, as the CLI and the HTTP service write it."""
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.suggestion:
            error["suggestion"] = self.suggestion
        return {"error": error}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidPostcode(Error, ValueError):
    """Not a UK postcode in form; the message says why (and suggests O/0, I/1 fixes)."""

    code, number = "invalid_postcode", 1


class PostcodeNotFound(Error, LookupError):
    """Well formed, but neither the postcode, its sector nor its district is in the data."""

    code, number = "postcode_not_found", 2


class NotCovered(Error, LookupError):
    """A real place the loaded data does not cover (Northern Ireland, Channel Islands...)."""

    code, number = "not_covered", 3


class InvalidParameter(Error, ValueError):
    """k, lat/lon, a distance limit...: the message names the parameter.

    Also when the index offers several treatments and the query names none."""

    code, number = "invalid_parameter", 4


class UnknownTreatment(Error, LookupError):
    """The index offers no such treatment."""

    code, number = "unknown_treatment", 5


class NonGeographicPostcode(Error, ValueError):
    """GIR 0AA, BFPO, overseas territories, ZZ99 pseudo-codes: no place to measure from."""

    code, number = "non_geographic_postcode", 6


class BadIndex(Error):
    """An index file refused: missing, truncated, corrupt, of another format version."""

    code, number = "bad_index", 7


class IndexIOError(Error, OSError):
    """A file could not be read or written."""

    code, number = "io_error", 8


class BadInput(Error, ValueError):
    """An input file (listing, directory, Code-Point) is malformed."""

    code, number = "bad_input", 9


class UnknownSite(Error, LookupError):
    """No site with that id."""

    code, number = "unknown_site", 10


class InternalError(Error):
    """A bug in hospital-locator: please report it with the message."""

    code, number = "internal", 11


class Status(enum.IntEnum):
    """Row status in the vectorised calls: 0 ok, else the engine's error code."""

    OK = 0
    INVALID_POSTCODE = 1
    POSTCODE_NOT_FOUND = 2
    NOT_COVERED = 3
    INVALID_PARAMETER = 4
    UNKNOWN_TREATMENT = 5
    NON_GEOGRAPHIC_POSTCODE = 6
    BAD_INDEX = 7
    IO_ERROR = 8
    BAD_INPUT = 9
    UNKNOWN_SITE = 10
    INTERNAL = 11


class Match(enum.IntEnum):
    """How a row's origin was resolved (the ``match`` arrays); NONE for a failed row."""

    UNIT = 0
    SECTOR = 1
    DISTRICT = 2
    POINT = 3
    TERMINATED = 4
    NONE = 255


#: status value -> its name, "ok" for 0.
STATUS_NAMES: dict[int, str] = {s.value: s.name.lower() for s in Status}
#: match value -> its name; a failed row's 255 is "".
MATCH_NAMES: dict[int, str] = {m.value: ("" if m is Match.NONE else m.name.lower()) for m in Match}

_CLASSES: dict[str, type[Error]] = {
    cls.code: cls
    for cls in (InvalidPostcode, PostcodeNotFound, NotCovered, InvalidParameter, UnknownTreatment,
                NonGeographicPostcode, BadIndex, IndexIOError, BadInput, UnknownSite, InternalError)
}

_HTTP_STATUS = {"invalid_postcode": 400, "postcode_not_found": 404, "not_covered": 422,
                "invalid_parameter": 400, "unknown_treatment": 404,
                "non_geographic_postcode": 422, "bad_index": 500, "io_error": 500,
                "bad_input": 400, "unknown_site": 404, "internal": 500}


def _from_engine(code: str, message: str, status: int, suggestion: str | None = None) -> Error:
    """Called by the compiled module: the exception instance for an engine error."""
    cls = _CLASSES.get(code, Error)
    return cls(message, code=code, status=status, suggestion=suggestion)
