"""Reading boundary files into a GeoDataFrame of raw features (attributes + geometry, CRS as declared).

Formats: GeoJSON, GeoPackage (every layer), Shapefile (plain or zipped), KML/KMZ (parsed here with
``xml.etree``, so ``ExtendedData`` and folder names survive; KML is always WGS-84 lon,lat) and WKT
text (one geometry, or one per line, optionally ``name;WKT`` / ``name<TAB>WKT``).
"""
from __future__ import annotations

import logging
import re
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
import shapely.errors
from shapely.geometry import LinearRing, LineString, Point, Polygon

from .errors import AOIError, GeometryRepairedWarning

__all__ = ["read_features", "BOUNDARY_FORMATS"]

log = logging.getLogger(__name__)

BOUNDARY_FORMATS = "GeoJSON, GeoPackage, Shapefile (.shp or zipped), KML/KMZ or WKT text"
_HINT = f"give a boundary file in one of: {BOUNDARY_FORMATS}"


def read_features(path: Path | str) -> tuple[gpd.GeoDataFrame, str]:
    """Read every feature of a boundary file.

    Returns
    -------
    (GeoDataFrame, format)
        Attributes as read plus ``geometry``; ``crs`` is ``None`` when the file declares none
        (WKT, a shapefile without .prj). A ``_layer`` column holds the layer or KML folder name.

    Raises
    ------
    AOIError
        Missing, unreadable or non-geographic file; no features.
    """
    path = Path(path)
    if not path.exists():
        raise AOIError(f"{path}: file not found; check the path")
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir())
        shps = [n for n in names if n.lower().endswith(".shp")]
        if not shps:
            raise AOIError(f"{path}: is a folder without shapefiles; {_HINT}")
        gdf = _read_shapefiles(path, shps, names, in_zip=False)
        if gdf.empty:
            raise AOIError(f"{path}: has no features; the boundary file must contain at least one polygon")
        return gdf, "shapefile"
    suffix = path.suffix.lower()
    try:
        head = path.read_bytes()[:4096]
    except OSError as err:
        raise AOIError(f"{path}: cannot read the file ({err.strerror or err})") from err
    if not head:
        raise AOIError(f"{path}: the file is empty; {_HINT}")
    if suffix in (".wkt", ".txt") or (suffix not in (".kml", ".kmz", ".zip") and _looks_wkt(head)):
        gdf, fmt = _read_wkt(path), "wkt"
    elif suffix == ".kml" or (suffix not in (".zip", ".kmz") and head.lstrip().startswith(b"<") and b"<kml" in head):
        gdf, fmt = _read_kml(path.read_bytes(), path), "kml"
    elif suffix in (".kmz", ".zip"):
        gdf, fmt = _read_zip(path)
    else:
        gdf, fmt = _read_ogr(path), "ogr"
    if gdf.empty:
        raise AOIError(f"{path}: has no features; the boundary file must contain at least one polygon")
    return gdf, fmt


_WKT_RE = re.compile(rb"^\s*(?:SRID=\d+;)?\s*(MULTI)?(POLYGON|POINT|LINESTRING|GEOMETRYCOLLECTION)\s*Z?\s*[(E]", re.I)


def _looks_wkt(head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    return bool(_WKT_RE.match(first)) or bool(_WKT_RE.match(first.split(b";", 1)[-1].split(b"\t", 1)[-1]))


def _read_wkt(path: Path) -> gpd.GeoDataFrame:
    from ._tables import decode_text

    raw = path.read_bytes()
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs
        raise AOIError(f"{path}: this is a binary file, not WKT text; {_HINT}")
    text, _ = decode_text(raw, path)
    text = text.strip()
    srid = None
    rows: list[dict] = []
    try:  # the whole file as one geometry (may span lines)
        one = text
        m = re.match(r"^SRID=(\d+);", one, re.I)
        if m:
            srid, one = int(m.group(1)), one[m.end():]
        rows.append({"name": None, "geometry": shapely.from_wkt(" ".join(one.split()))})
    except (shapely.errors.ShapelyError, ValueError) as whole_err:  # not one geometry: try one per line
        rows = []
        for i, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name = None
            m = re.match(r"^(?:(?P<name>[^;\t]*?)\s*[;\t|]\s*)?(?:SRID=(?P<srid>\d+);)?(?P<wkt>[A-Za-z]+\s*Z?\s*[(E].*)$", line)
            if not m:
                raise AOIError(f"{path}: line {i} is not WKT ({line[:40]!r}); write one geometry per line "
                               "like POLYGON((lon lat, ...)), optionally prefixed by 'name;'") from whole_err
            name = (m.group("name") or "").strip() or None
            if m.group("srid"):
                srid = int(m.group("srid"))
            try:
                geom = shapely.from_wkt(m.group("wkt"))
            except (shapely.errors.ShapelyError, ValueError) as err:
                raise AOIError(f"{path}: line {i} is not valid WKT ({_short(err)}); check it is complete "
                               "(closed brackets, lon lat pairs separated by commas)") from err
            rows.append({"name": name, "geometry": geom})
    if not rows:
        raise AOIError(f"{path}: no WKT geometry found; {_HINT}")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=f"EPSG:{srid}" if srid else None)
    if gdf["name"].isna().all():
        gdf = gdf.drop(columns="name")
    gdf["_layer"] = None
    return gdf


def _short(err: Exception) -> str:
    return str(err).split("\n")[0].split("; It might help")[0].replace("'", "")[:160]


def _read_layer(src: str, name: str, guess_encoding: bool):
    """One layer; a shapefile without .cpg is tried as UTF-8, then GB18030 (GBK), as Chinese GIS writes it."""
    kw: dict = {}
    if guess_encoding:
        try:
            pyogrio.read_dataframe(src, layer=name, encoding="utf-8", read_geometry=False)
            kw["encoding"] = "utf-8"
        except UnicodeDecodeError:
            log.info("%s: attributes are not UTF-8 and there is no .cpg; reading them as GB18030/GBK", src)
            kw["encoding"] = "gb18030"
    try:
        return pyogrio.read_dataframe(src, layer=name, **kw)
    except UnicodeDecodeError:
        if kw.get("encoding") == "gb18030":
            raise
        # attributes neither declared nor valid UTF-8 (a GeoJSON saved as GBK, ...): GB18030 is a superset of GBK
        log.info("%s: attributes are not UTF-8; reading them as GB18030/GBK", src)
        return _read_layer_as(src, name, "gb18030")
    except shapely.errors.GEOSException as err:  # e.g. a ring of 2 points: not even WKB-parseable
        warnings.warn(f"{src}: layer {name!r} has malformed geometries ({_short(err)}); repaired with "
                      "make_valid, check the result", GeometryRepairedWarning, stacklevel=4)
        return pyogrio.read_dataframe(src, layer=name, on_invalid="fix", **kw)


def _read_layer_as(src: str, name: str, encoding: str):
    try:
        return pyogrio.read_dataframe(src, layer=name, encoding=encoding)
    except shapely.errors.GEOSException:
        return pyogrio.read_dataframe(src, layer=name, encoding=encoding, on_invalid="fix")


def _read_ogr(path: Path, *, vsi: str | None = None, has_cpg: bool | None = None,
              layer_name: str | None = None) -> gpd.GeoDataFrame:
    """Every geometry layer of one OGR source (``layer_name`` labels a single-layer source, e.g. a .shp)."""
    src = vsi or str(path)
    if has_cpg is None:
        has_cpg = path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists()
    guess = (path.suffix.lower() == ".shp" and not has_cpg) if vsi is None else not has_cpg
    try:
        layers = pyogrio.list_layers(src)
        frames = []
        for name, gtype in layers:
            if gtype is None and len(layers) > 1:
                continue  # attribute-only table in a GeoPackage
            df = _read_layer(src, name, guess)
            if not isinstance(df, gpd.GeoDataFrame):
                continue
            df["_layer"] = name if len(layers) > 1 else layer_name
            frames.append(df)
    except UnicodeDecodeError as err:
        raise AOIError(f"{path}: the attribute text is neither UTF-8 nor GBK ({_short(err)}); save the file as UTF-8") from err
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError, pyogrio.errors.CRSError) as err:
        raise AOIError(f"{path}: cannot read as a geographic file ({_short(err)}); {_HINT}") from err
    if not frames:
        raise AOIError(f"{path}: has no geometry layer; {_HINT}")
    return _concat(frames)


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Concatenate layers, reprojecting each to the first layer's CRS (layers without CRS are kept as read)."""
    if len(frames) == 1:
        return frames[0]
    crs = next((f.crs for f in frames if f.crs is not None), None)
    same = [f.to_crs(crs) if (crs is not None and f.crs is not None and f.crs != crs) else f for f in frames]
    return gpd.GeoDataFrame(pd.concat(same, ignore_index=True), geometry="geometry", crs=crs)


def _read_shapefiles(path: Path, shps: list[str], names: list[str], *, in_zip: bool) -> gpd.GeoDataFrame:
    """One or several shapefiles (in a folder or a zip); several are layers named by their file stems."""
    frames = []
    for shp in shps:
        stem = shp[:-4]
        has_cpg = any(n.lower() == stem.lower() + ".cpg" for n in names)
        vsi = f"/vsizip/{path.resolve()}/{shp}" if in_zip else str(path / shp)
        label = Path(stem).name if len(shps) > 1 else None
        frames.append(_read_ogr(Path(vsi), vsi=vsi, has_cpg=has_cpg, layer_name=label))
    return _concat(frames)


def _read_zip(path: Path) -> tuple[gpd.GeoDataFrame, str]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.startswith("__MACOSX")]
            kmls = [n for n in names if n.lower().endswith(".kml")]
            shps = [n for n in names if n.lower().endswith(".shp")]
            others = [n for n in names if n.lower().endswith((".geojson", ".json", ".gpkg"))]
            if kmls and not shps:
                return _read_kml(zf.read(kmls[0]), path), "kml"
    except zipfile.BadZipFile as err:
        raise AOIError(f"{path}: is not a valid zip archive ({err}); {_HINT}") from err
    if shps:
        return _read_shapefiles(path, shps, names, in_zip=True), "shapefile"
    if others:
        return _read_ogr(path, vsi=f"/vsizip/{path.resolve()}/{others[0]}", has_cpg=True), "ogr"
    raise AOIError(f"{path}: the archive holds no .shp, .kml, .geojson or .gpkg; {_HINT}")


# --- KML -------------------------------------------------------------------------------------

def _tag(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _coords(text: str | None, path: Path) -> list[tuple[float, float]]:
    out = []
    for tok in (text or "").split():
        parts = tok.split(",")
        try:
            out.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError) as err:
            raise AOIError(f"{path}: bad KML <coordinates> entry {tok!r}; KML wants 'lon,lat[,alt]' tuples") from err
    return out


def _kml_geoms(el: ET.Element, path: Path) -> list:
    t = _tag(el)
    if t == "Polygon":
        outer, inner = None, []
        for b in el:
            bt = _tag(b)
            ring = next((r for r in b.iter() if _tag(r) == "coordinates"), None)
            pts = _coords(ring.text if ring is not None else "", path)
            if bt == "outerBoundaryIs":
                outer = pts
            elif bt == "innerBoundaryIs":
                inner.append(pts)
        if not outer:
            return [Polygon()]
        if len(outer) < 4:
            return [LineString(outer) if len(outer) > 1 else Point(outer[0])]
        return [Polygon(outer, [h for h in inner if len(h) >= 4])]
    if t == "MultiGeometry":
        return [g for child in el for g in _kml_geoms(child, path)]
    if t in ("LineString", "LinearRing"):
        pts = _coords(next((c.text for c in el if _tag(c) == "coordinates"), ""), path)
        if t == "LinearRing" and len(pts) >= 4:
            return [Polygon(LinearRing(pts))]
        return [LineString(pts)] if len(pts) > 1 else []
    if t == "Point":
        pts = _coords(next((c.text for c in el if _tag(c) == "coordinates"), ""), path)
        return [Point(pts[0])] if pts else []
    return []


def _read_kml(raw: bytes, path: Path) -> gpd.GeoDataFrame:
    if b"\x00" in raw[:4096]:
        raise AOIError(f"{path}: this is a binary file, not KML; {_HINT}")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as err:
        raise AOIError(f"{path}: is not valid KML/XML ({err}); re-export it from your GIS or Google Earth") from err
    rows: list[dict] = []

    def walk(el: ET.Element, folder: str | None) -> None:
        for child in el:
            t = _tag(child)
            if t in ("Folder", "Document"):
                nm = next((c.text for c in child if _tag(c) == "name"), None)
                walk(child, (nm or "").strip() or folder if t == "Folder" else folder)
            elif t == "Placemark":
                props: dict = {"_layer": folder}
                geoms = []
                for c in child:
                    ct = _tag(c)
                    if ct == "name":
                        props["name"] = (c.text or "").strip() or None
                    elif ct == "description":
                        props["description"] = (c.text or "").strip() or None
                    elif ct == "ExtendedData":
                        for d in c.iter():
                            dt = _tag(d)
                            if dt == "Data" and d.get("name"):
                                val = next((v.text for v in d if _tag(v) == "value"), None)
                                props[d.get("name")] = val
                            elif dt == "SimpleData" and d.get("name"):
                                props[d.get("name")] = d.text
                    else:
                        geoms.extend(_kml_geoms(c, path))
                polys = [g for g in geoms if g.geom_type == "Polygon"]
                geom = (shapely.multipolygons(polys) if len(polys) > 1 else polys[0]) if polys and len(polys) == len(geoms) \
                    else (shapely.geometrycollections(geoms) if len(geoms) > 1 else (geoms[0] if geoms else None))
                props["geometry"] = geom
                rows.append(props)

    walk(root, None)
    if not rows:
        raise AOIError(f"{path}: the KML has no Placemark; it must contain at least one polygon")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    doc = next((d for d in root.iter() if _tag(d) == "Document"), None)
    doc_name = next((c.text for c in doc if _tag(c) == "name"), None) if doc is not None else None
    gdf["_doc_name"] = (doc_name or "").strip() or None
    # pins and labels (Point placemarks) next to polygons are usual in KML: not boundaries, skip them
    pins = gdf.geometry.notna() & gdf.geometry.geom_type.isin(["Point", "MultiPoint"])
    if pins.any() and (~pins).any():
        log.info("%s: %d Point placemark(s) ignored (pins, not boundaries)", path, int(pins.sum()))
        gdf = gdf[~pins].reset_index(drop=True)
    return gdf
