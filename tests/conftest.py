"""Shared fixtures: real data paths, loopback-only network, small builders."""
from __future__ import annotations

import socket
from pathlib import Path

import os

import pytest
from hypothesis import settings

# CI (CI=true) runs Hypothesis derandomised so that a submission's result does not depend on luck;
# local runs keep exploring new examples (and remember failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared(*parts: str) -> Path:
    """Path to a file in ../shared/data; skips the test with a clear reason when absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data {p} is absent (../shared/data is not next to this checkout)")
    return p


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


_real_connect = socket.socket.connect
_real_create_connection = socket.create_connection


def _is_loopback(addr) -> bool:
    if isinstance(addr, tuple) and addr:
        host = str(addr[0])
        return host in ("localhost", "::1") or host.startswith("127.")
    return True  # unix sockets


@pytest.fixture(autouse=True)
def _block_network(monkeypatch):
    """No network except loopback during tests."""

    def guarded_connect(self, addr):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(addr):
            raise OSError(f"network blocked in tests: connect to {addr!r}")
        return _real_connect(self, addr)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield
