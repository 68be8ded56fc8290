"""Hypothesis: downloads survive any cut, redaction removes any registered secret, URL helpers."""
from __future__ import annotations

import hashlib
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkscan.sources.remote.credentials import redact, redact_url, register_secret
from parkscan.sources.remote.download import _content_range_start, _content_range_total
from parkscan.sources.remote.http import HTTPSession
from parkscan.sources.remote.stac import datetime_range

DATA = os.urandom(50_000)
SHA = hashlib.sha256(DATA).hexdigest()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 49_999), min_size=0, max_size=2))
def test_download_correct_after_any_cuts(server, tmp_path_factory, cuts):
    url = server.add_file("/p.bin", DATA)
    server.faults.pop("/p.bin", None)
    server.fault("/p.bin", *[f"truncate:{c}" for c in cuts])
    dest = tmp_path_factory.mktemp("dl") / "p.bin"
    s = HTTPSession("prop")
    s.sleep = lambda _w: None
    res = s.download(url, dest, sha256=SHA)
    assert dest.read_bytes() == DATA and res.sha256 == SHA


@given(secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=30),
       before=st.text(max_size=20), after=st.text(max_size=20))
def test_registered_secret_never_survives_redaction(secret, before, after):
    from parkscan.sources.remote import credentials

    register_secret(secret)
    try:
        assert secret not in redact(before + secret + after)
    finally:  # random "secrets" must not redact other tests' messages
        credentials._SECRETS.discard(secret)


@given(user=st.from_regex(r"[a-z]{1,8}", fullmatch=True), pw=st.from_regex(r"[A-Za-z0-9]{4,12}", fullmatch=True),
       sig=st.from_regex(r"[A-Za-z0-9%]{1,20}", fullmatch=True))
def test_redact_url_drops_userinfo_and_signatures(user, pw, sig):
    u = redact_url(f"https://{user}:{pw}@host.example/a/b.tif?sp=r&sig={sig}&x=1")
    assert u.startswith("https://host.example/a/b.tif?") and f"sig={sig}" not in u and "sig=***" in u and "x=1" in u


@given(a=st.integers(0, 10**9), n=st.integers(1, 10**6))
def test_content_range_parsing(a, n):
    v = f"bytes {a}-{a + n - 1}/{a + n}"
    assert _content_range_start(v) == a and _content_range_total(v) == a + n
    assert _content_range_total("bytes */123") == 123 and _content_range_start(None) is None


@given(d=st.dates())
def test_datetime_range_one_day(d):
    r = datetime_range(d, d)
    assert r == f"{d.isoformat()}T00:00:00Z/{d.isoformat()}T23:59:59Z"
