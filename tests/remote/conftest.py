"""Fixtures for the remote-source tests: loopback servers, fast HTTP options, a temp cache."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

from remote_loopback import LoopbackServer  # noqa: E402



@pytest.fixture
def server():
    s = LoopbackServer()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def fast_http(tmp_path, monkeypatch):
    """Tiny timeouts and back-off, a private cache, no real credentials or netrc."""
    from parkscan.aoi.options import set_options

    for var in ("CDSE_USERNAME", "CDSE_PASSWORD", "DHUS_USER", "DHUS_PASSWORD", "FIRMS_MAP_KEY", "PC_SDK_SUBSCRIPTION_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with set_options(http_timeout=2.0, http_retries=2, http_backoff=0.01, cache_dir=str(tmp_path / "cache")):
        yield
