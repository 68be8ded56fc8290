"""STAC search through parkscan's I/O against recorded real Earth Search / Planetary Computer answers."""
from __future__ import annotations

import json

import pytest

from parkscan.aoi.errors import SourceAPIError
from parkscan.sources.remote.stac import StacCatalog

from remote_paths import STAC_CASSETTES
from remote_replay import Replay

ES = "earth-search.aws.element84.com"
PC = "planetarycomputer.microsoft.com"


def _need(*names):
    paths = [STAC_CASSETTES / n for n in names]
    for p in paths:
        if not p.exists():
            pytest.skip(f"real cassette {p} is absent")
    return paths


def test_earth_search_two_collections_and_empty_next_page(server):
    replay = Replay(server, _need("test_cli/TestCLICollections.test_collections[inprocess].yaml",
                                  "test_item_search/test_multiple_collections.yaml"))
    cat = StacCatalog(replay.base(ES) + "/v1")
    items = cat.search(collection=["s2-l2a", "landsat-c2-l2"], start="2023-10-08", end="2023-10-08",
                       intersects={"type": "Point", "coordinates": [-105.1019, 40.1672]})
    assert sorted(it.collection_id for it in items) == ["landsat-c2-l2", "sentinel-2-l2a"]
    s2 = next(it for it in items if it.collection_id == "sentinel-2-l2a")
    assert s2.id == "S2A_13TDE_20231008_0_L2A" and "scl" in s2.assets
    # the recorded second page (via the POST next link) is empty, and was requested
    assert sum(1 for m, p, h in server.requests if m == "POST") == 2
    # assets point at the real hosts (only API links were rewritten)
    assert s2.assets["red"].href.startswith("https://")


def test_pc_paging_follows_next_links_and_cache_reuses(server):
    replay = Replay(server, _need("test_client/TestAPI.test_instance.yaml",
                                  "test_item_search/TestItemSearch.test_result_paging.yaml"))
    cat = StacCatalog(replay.base(PC) + "/api/stac/v1")
    items = cat.search(collection="naip", start=None, end=None, bbox=(-73.21, 43.99, -73.12, 44.05), limit=10, max_items=20)
    assert len(items) == 20 and len({it.id for it in items}) == 20
    n = len(server.requests)
    again = StacCatalog(replay.base(PC) + "/api/stac/v1").search(
        collection="naip", start=None, end=None, bbox=(-73.21, 43.99, -73.12, 44.05), limit=10, max_items=20)
    assert [it.id for it in again] == [it.id for it in items]
    assert len(server.requests) == n  # landing page and both pages came from the on-disk cache


def test_pc_asset_signing_with_token_endpoint(server):
    replay = Replay(server, _need("test_client/TestAPI.test_instance.yaml",
                                  "test_item_search/TestItemSearch.test_result_paging.yaml"))
    from remote_loopback import Reply

    calls = []

    def token(req):
        calls.append(req.path)
        return Reply(200, json.dumps({"msft:expiry": "2099-01-01T00:00:00Z", "token": "se=2099&sp=rl&sig=SECRETSIG"}).encode(),
                     {"Content-Type": "application/json"})

    server.route("GET", "/sas/.*", token)
    cat = StacCatalog(replay.base(PC) + "/api/stac/v1", sas_url=server.url + "/sas")
    cat.preset = type(cat.preset)("planetary-computer", cat.preset.url, signer="planetary-computer")
    from parkscan.sources.remote.stac import PlanetaryComputerSigner

    cat.signer = PlanetaryComputerSigner(cat.http, sas_url=server.url + "/sas")
    items = cat.search(collection="naip", start=None, end=None, bbox=(-73.21, 43.99, -73.12, 44.05), limit=10, max_items=10)
    href = items[0].assets["image"].href
    signed = cat.sign(href)
    assert signed.startswith(href) and signed.endswith("sig=SECRETSIG")
    cat.sign(items[1].assets["image"].href)
    assert len(calls) == 1 and calls[0].startswith("/sas/naipeuwest/naip")  # token cached per container
    from parkscan.sources.remote.credentials import redact

    assert "SECRETSIG" not in redact(signed)


def test_not_found_collection_is_api_error(server):
    replay = Replay(server, _need("test_client/test_get_collection_returns_none_if_not_found.yaml"))
    cat = StacCatalog(replay.base(ES) + "/v1", cache_ttl=0)
    with pytest.raises(SourceAPIError, match="404"):
        cat.io.request(replay.base(ES) + "/v1/collections/foo")


def test_maintenance_page_is_a_clear_error(server):
    replay = Replay(server, _need("test_cli/TestCLICollections.test_collections[inprocess].yaml"))
    server.fault(f"/{ES}/v1", "maintenance", "maintenance", "maintenance")
    with pytest.raises(SourceAPIError, match="maintenance"):
        StacCatalog(replay.base(ES) + "/v1", cache_ttl=0).client
