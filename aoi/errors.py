"""The one exception and warning tree of parkscan (lives at the bottom of the stack).

Every error a user can cause is a :class:`ParkscanError`; the CLI turns it into one line
and exit code 1. Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

__all__ = [
    "ParkscanError",
    "AOIError",
    "SourceError",
    "SourceAPIError",
    "SourceIOError",
    "ModelError",
    "DiagnosticsError",
    "ParkscanWarning",
    "GeometryRepairedWarning",
    "DataQualityWarning",
    "NotDetectableWarning",
]


class ParkscanError(Exception):
    """Root of every error a user can cause (bad input, unreachable service, ...)."""


class AOIError(ParkscanError, ValueError):
    """A park boundary, enterprise list or datum problem."""


class SourceError(ParkscanError):
    """Acquiring or ingesting observations failed."""


class SourceAPIError(SourceError):
    """A remote service answered with an error.

    Parameters
    ----------
    message : str
        What went wrong and what to do about it.
    status_code : int, optional
        The HTTP status, when there was a response.
    url : str, optional
        The URL with credentials and query secrets removed.
    """

    def __init__(self, message: str, *, status_code: int | None = None, url: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.url = url

    @classmethod
    def from_response(cls, response, hint: str = "") -> "SourceAPIError":
        """Build from a ``requests.Response`` (the body is shortened, never includes headers)."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(response.url or "")
        safe_url = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
        if parts.port:
            safe_url = urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port}", parts.path, "", ""))
        body = (response.text or "")[:200].strip().replace("\n", " ")
        msg = f"{safe_url}: HTTP {response.status_code} {response.reason or ''}".rstrip()
        if body:
            msg += f" ({body})"
        if hint:
            msg += f". {hint}"
        return cls(msg, status_code=response.status_code, url=safe_url)


class SourceIOError(SourceError, OSError):
    """A file could not be read or a download is broken (truncated, wrong checksum)."""


class ModelError(ParkscanError):
    """A model cannot be trained or applied (too little data, wrong version, ...)."""


class DiagnosticsError(ParkscanError):
    """The screening or its outputs failed."""


class ParkscanWarning(UserWarning):
    """Base of parkscan's warnings: ``warnings.simplefilter('error', ParkscanWarning)`` makes them errors."""


class GeometryRepairedWarning(ParkscanWarning):
    """An invalid geometry (self-intersection, ...) was repaired with ``shapely.make_valid``."""


class DataQualityWarning(ParkscanWarning):
    """Input rows were flagged (kept, with a reason) rather than used."""


class NotDetectableWarning(ParkscanWarning):
    """A quantity is below the method's detection limit: reported as not detectable, never as zero."""
