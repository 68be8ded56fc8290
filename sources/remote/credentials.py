"""Credentials for remote providers: from environment variables or ``~/.netrc`` only, never logged.

Every secret read here is registered with :func:`register_secret`, and :func:`redact` /
:func:`redact_url` replace registered secrets, URL user-info and secret-looking query
parameters by ``***``. All log records and error messages of :mod:`parkscan.sources.remote`
go through them, so a credential can not end up in a log, an error, a cache key or a manifest.

Environment variables (see ``docs/readme/fetch.md``):

================  =============================================  ==========================
provider          variables                                      netrc machine
================  =============================================  ==========================
``cdse``          ``CDSE_USERNAME``, ``CDSE_PASSWORD``           identity.dataspace.copernicus.eu
``dhus``          ``DHUS_USER``, ``DHUS_PASSWORD``               host of the hub URL
``firms``         ``FIRMS_MAP_KEY``                              firms.modaps.eosdis.nasa.gov (password)
``planetary-computer``  ``PC_SDK_SUBSCRIPTION_KEY`` (optional)   —
``cdse-s3``       ``CDSE_S3_ACCESS_KEY``, ``CDSE_S3_SECRET_KEY``      eodata.dataspace.copernicus.eu
================  =============================================  ==========================
"""
from __future__ import annotations

import logging
import netrc
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from parkscan.aoi.errors import SourceError

__all__ = [
    "Credentials",
    "CredentialsError",
    "PROVIDERS",
    "get_credentials",
    "register_secret",
    "redact",
    "redact_url",
    "RedactingFilter",
]

log = logging.getLogger(__name__)

#: provider → (username env var or None, secret env var, default netrc machine)
PROVIDERS: dict[str, tuple[str | None, str, str | None]] = {
    "cdse": ("CDSE_USERNAME", "CDSE_PASSWORD", "identity.dataspace.copernicus.eu"),
    "dhus": ("DHUS_USER", "DHUS_PASSWORD", None),
    "firms": (None, "FIRMS_MAP_KEY", "firms.modaps.eosdis.nasa.gov"),
    "planetary-computer": (None, "PC_SDK_SUBSCRIPTION_KEY", None),
    "cdse-s3": ("CDSE_S3_ACCESS_KEY", "CDSE_S3_SECRET_KEY", "eodata.dataspace.copernicus.eu"),
}

#: query parameters whose values are secrets (lower case)
SECRET_PARAMS = frozenset(
    {
        "sig", "signature", "token", "access_token", "refresh_token", "id_token", "key", "apikey", "api_key",
        "map_key", "password", "passwd", "pass", "secret", "client_secret", "code", "subscription-key",
        "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature", "skoid", "sktid",
    }
)

_SECRETS: set[str] = set()
_LOCK = threading.Lock()


class CredentialsError(SourceError):
    """Credentials are missing or unusable (message names the variables to set)."""


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it from any text.

    Very short values (fewer than 4 characters) are not registered: they would redact
    ordinary words.
    """
    if value and len(value) >= 4:
        with _LOCK:
            _SECRETS.add(value)


def redact(text: object) -> str:
    """``text`` with registered secrets, URL user-info and secret query values replaced by ``***``.

    Examples
    --------
    >>> redact("https://bob:hunter22@example.com/x?sig=abc&b=1")
    'https://***@example.com/x?sig=***&b=1'
    """
    s = str(text)
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for sec in secrets:
        s = s.replace(sec, "***")
    s = re.sub(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", r"\1***@", s)
    pattern = "|".join(re.escape(p) for p in sorted(SECRET_PARAMS, key=len, reverse=True))
    s = re.sub(rf"(?i)([?&;](?:{pattern})=)[^&\s#'\"]*", r"\1***", s)
    s = re.sub(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+|basic\s+)?[^\s'\",}]+", r"\1***", s)
    return s


def redact_url(url: str, *, keep_query: bool = True) -> str:
    """A URL safe to log, cache or record: no user-info, secret query values masked.

    Parameters
    ----------
    url : str
        Any URL.
    keep_query : bool, default True
        Keep non-secret query parameters (drop the whole query when False).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = ""
    if keep_query and parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in pairs], safe="*/:,")
    return redact(urlunsplit((parts.scheme, host, parts.path, query, parts.fragment)))


class RedactingFilter(logging.Filter):
    """A logging filter that runs :func:`redact` over every record's message and traceback text.

    The traceback is formatted here (into ``record.exc_text``, which formatters reuse) because the
    messages of chained exceptions (``requests`` errors) hold whole URLs, keys in paths included.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        try:
            msg = record.getMessage()
        except (TypeError, ValueError):
            return True
        red = redact(msg)
        if red != msg:
            record.msg, record.args = red, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


#: loggers whose records are redacted (logger filters are not inherited by child loggers: each is named)
REDACTED_LOGGERS = (
    "parkscan.sources.remote", *(f"parkscan.sources.remote.{m}" for m in (
        "http", "download", "stac", "stac_load", "cdse", "dhus", "firms_api", "local", "fetch", "cache", "credentials")),
    "parkscan.fetch", "sentinelsat", "sentinelsat.SentinelAPI", "urllib3.connectionpool", "pystac_client",
    "pystac_client.stac_api_io", "rasterio", "rasterio._env", "odc.stac",
)
for _name in REDACTED_LOGGERS:
    logging.getLogger(_name).addFilter(RedactingFilter())


@dataclass(frozen=True, repr=False)
class Credentials:
    """A username/password pair or a key, with where it came from (never the value) for messages."""

    username: str | None
    """User name (None for key-only providers such as FIRMS)."""
    password: str | None = field(default=None)
    """Password or key."""
    origin: str = ""
    """Where it was read, e.g. ``env:CDSE_USERNAME`` or ``netrc:identity.dataspace.copernicus.eu``."""

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***', origin={self.origin!r})"

    __str__ = __repr__

    @property
    def auth(self) -> tuple[str, str]:
        """``(username, password)`` for ``requests``."""
        return (self.username or "", self.password or "")


def _netrc_path() -> Path:
    return Path(os.environ.get("NETRC") or Path.home() / ".netrc")


def _from_netrc(machine: str) -> tuple[str | None, str | None] | None:
    path = _netrc_path()
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(machine)
    except (netrc.NetrcParseError, OSError) as err:
        log.warning("could not read %s (%s); ignoring it", path, type(err).__name__)
        return None
    if entry is None:
        return None
    login, _account, password = entry
    return login, password


def get_credentials(provider: str, *, host: str | None = None, required: bool = True) -> Credentials | None:
    """Credentials for ``provider`` from its environment variables, else ``~/.netrc`` (``$NETRC``).

    Parameters
    ----------
    provider : str
        A key of :data:`PROVIDERS`.
    host : str, optional
        Netrc machine to look up (default: the provider's usual host).
    required : bool, default True
        Raise :class:`CredentialsError` when nothing is found (else return None).

    Returns
    -------
    Credentials or None
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; known: {sorted(PROVIDERS)}")
    user_var, secret_var, default_host = PROVIDERS[provider]
    secret = os.environ.get(secret_var)
    user = os.environ.get(user_var) if user_var else None
    if secret and (user or user_var is None):
        register_secret(secret)
        return Credentials(user, secret, origin=f"env:{user_var or secret_var}")
    machine = host or default_host
    if machine:
        entry = _from_netrc(machine)
        if entry is not None and entry[1]:
            register_secret(entry[1])
            return Credentials(entry[0] if user_var else None, entry[1], origin=f"netrc:{machine}")
    if not required:
        return None
    need = f"{user_var} and {secret_var}" if user_var else secret_var
    where = f" or a 'machine {machine}' entry in {_netrc_path()}" if machine else ""
    raise CredentialsError(f"no credentials for {provider}: set the environment variables {need}{where}")
