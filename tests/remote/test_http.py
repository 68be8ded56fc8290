"""HTTPSession: retries, back-off, Retry-After, timeouts, downloads with resume and checksums."""
from __future__ import annotations

import hashlib
import os

import pytest

from parkscan.aoi.errors import SourceAPIError, SourceIOError
from parkscan.aoi.options import set_options
from parkscan.sources.remote.credentials import register_secret
from parkscan.sources.remote.http import HTTPSession, part_path

DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()
MD5 = hashlib.md5(DATA).hexdigest()


def _session():
    s = HTTPSession("test")
    s.waits = []
    s.sleep = s.waits.append
    return s


def test_retry_on_500_then_ok(server):
    url = server.add_file("/f.bin", b"hello")
    server.fault("/f.bin", "500", "502")
    s = _session()
    assert s.get(url).content == b"hello"
    assert len(s.waits) == 2 and s.waits[1] == pytest.approx(2 * s.waits[0])


def test_500_forever_raises_api_error(server):
    url = server.add_file("/f.bin", b"hello")
    server.fault("/f.bin", "500", "500", "500", "500")
    with pytest.raises(SourceAPIError, match="HTTP 500") as ei:
        _session().get(url)
    assert ei.value.status_code == 500


def test_429_retry_after_is_honoured(server):
    url = server.add_file("/f.bin", b"hello")
    server.fault("/f.bin", "429:1.5")
    s = _session()
    assert s.get(url).content == b"hello"
    assert s.waits == [1.5]


def test_429_retry_after_too_long_raises(server):
    url = server.add_file("/f.bin", b"hello")
    server.fault("/f.bin", "429:9999")
    with pytest.raises(SourceAPIError, match="Retry-After"):
        _session().get(url)


def test_stall_past_timeout_is_retried_then_raises(server):
    url = server.add_file("/f.bin", b"hello")
    server.fault("/f.bin", "stall:1.0")
    with set_options(http_timeout=0.3):
        s = _session()
        assert s.get(url).content == b"hello"  # first attempt stalled, second served
        assert len(s.waits) == 1
        server.fault("/f.bin", "stall:1", "stall:1", "stall:1")
        with pytest.raises(SourceIOError, match="timed out"):
            s.get(url)


def test_unreachable_is_source_io_error():
    s = _session()
    with pytest.raises(SourceIOError, match="could not connect"):
        s.get("http://127.0.0.1:9/nothing")


def test_maintenance_page_message(server):
    url = server.add_file("/search", b"{}")
    server.fault("/search", "maintenance", "maintenance", "maintenance")
    with pytest.raises(SourceAPIError, match="maintenance"):
        _session().get(url)


def test_401_not_retried_and_secret_redacted(server):
    register_secret("s3cr3t-passw0rd")
    server.route("GET", "/auth", lambda r: __import__("remote_loopback").Reply(401, b"bad password s3cr3t-passw0rd"))
    s = _session()
    with pytest.raises(SourceAPIError) as ei:
        s.get(server.url + "/auth?token=abcdef", headers={"X": "1"})
    msg = str(ei.value)
    assert "401" in msg and "credentials" in msg
    assert "s3cr3t" not in msg and "abcdef" not in msg
    assert s.waits == []


def test_download_ok_and_checksums(server, tmp_path):
    url = server.add_file("/d.bin", DATA)
    res = _session().download(url, tmp_path / "d.bin", sha256=SHA, md5=MD5, expected_size=len(DATA))
    assert res.path.read_bytes() == DATA and res.sha256 == SHA and res.bytes == len(DATA)
    assert not part_path(tmp_path / "d.bin").exists()


def test_download_truncated_is_resumed_with_range(server, tmp_path):
    url = server.add_file("/d.bin", DATA)
    server.fault("/d.bin", "truncate:100000")
    s = _session()
    res = s.download(url, tmp_path / "d.bin", sha256=SHA)
    assert res.path.read_bytes() == DATA
    ranges = [h.get("Range") for m, p, h in server.requests if p == "/d.bin"]
    assert ranges == [None, "bytes=100000-"]
    assert server.total_bytes("/d.bin") == len(DATA)  # nothing fetched twice


def test_download_truncated_past_retries_keeps_part_not_target(server, tmp_path):
    url = server.add_file("/d.bin", DATA)
    server.fault("/d.bin", "truncate:1000", "truncate:1000", "truncate:1000")
    dest = tmp_path / "d.bin"
    with pytest.raises(SourceIOError, match="cut"):
        _session().download(url, dest, sha256=SHA)
    assert not dest.exists()
    assert part_path(dest).stat().st_size == 3000
    # a later run resumes from the part
    res = _session().download(url, dest, sha256=SHA)
    assert res.resumed_from == 3000 and res.transferred == len(DATA) - 3000
    assert dest.read_bytes() == DATA


def test_download_wrong_checksum_leaves_nothing(server, tmp_path):
    url = server.add_file("/d.bin", DATA)
    dest = tmp_path / "d.bin"
    with pytest.raises(SourceIOError, match="corrupt.*md5"):
        _session().download(url, dest, md5="0" * 32)
    assert not dest.exists() and not part_path(dest).exists()


def test_download_without_range_support_restarts(server, tmp_path):
    url = server.add_file("/d.bin", DATA)
    dest = tmp_path / "d.bin"
    part_path(dest).write_bytes(DATA[:5000])
    server.support_range = False
    res = _session().download(url, dest, sha256=SHA)
    assert dest.read_bytes() == DATA and res.transferred == len(DATA)


def test_request_hook_sees_every_attempt(server):
    url = server.add_file("/f.bin", b"x")
    server.fault("/f.bin", "503")
    seen = []

    def hook(prep):
        seen.append(prep.url)
        prep.headers["X-Signed"] = "yes"

    s = _session()
    s.request_hook = hook
    s.get(url)
    assert len(seen) == 2
    assert server.requests[-1][2].get("X-Signed") == "yes"
