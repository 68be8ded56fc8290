"""A .SAFE folder gets the same SHA-256 in the fetch manifest (sources.remote.local) and the screening manifest."""
from __future__ import annotations

from parkscan.diagnostics.manifest import input_item
from parkscan.sources.remote.local import list_local


def test_fetch_and_screening_manifests_agree_on_a_folder(tmp_path):
    safe = tmp_path / "S2A_MSIL2A_20240601T030521_N0510_R075_T50RQV_20240601T073000.SAFE"
    img = safe / "GRANULE" / "L2A_T50RQV" / "IMG_DATA" / "R10m"
    img.mkdir(parents=True)
    (img / "T50RQV_20240601T030521_B04_10m.jp2").write_bytes(b"red")
    (img / "T50RQV_20240601T030521_B08_10m.jp2").write_bytes(b"nir!")
    (safe / "MTD_MSIL2A.xml").write_text("<x/>")
    local = [it for it in list_local(tmp_path) if it.path == safe]
    assert len(local) == 1
    item = input_item(safe, kind="imagery")
    assert item.sha256 == local[0].sha256 and item.size == local[0].bytes == 11
