"""``parkscan landcover train | predict | sample | assess``: models, maps and honest accuracy.

Typical use::

    parkscan landcover train IMAGERY --labels labels.gpkg --class-field class --out model.joblib
    parkscan landcover predict IMAGERY --model model.joblib --out map.tif
    parkscan landcover sample map.tif --out points.csv          # interpret the 'reference' column
    parkscan landcover assess points.csv --out accuracy.json     # areas ± 95% CI (Olofsson et al. 2014)
"""
from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["command"]


def _park_for(park_path: str | None, imagery: str):
    """The park (its CRS and window define the grid); without --park, the image's own footprint."""
    from parkscan.aoi import read_park

    if park_path:
        return read_park(park_path)
    import rasterio
    from rasterio.warp import transform_bounds
    from shapely.geometry import box

    from parkscan.aoi.errors import SourceIOError
    from parkscan.aoi.park import Park
    from parkscan.sources.imagery import _local_files

    first = [f for f in _local_files(Path(imagery)) if f.is_file()]
    if not first:
        raise SourceIOError(f"{imagery}: give --park for .SAFE or remote imagery")
    with rasterio.open(first[0]) as src:
        if src.crs is None:
            raise SourceIOError(f"{first[0]}: the image has no CRS")
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    return Park(id=Path(imagery).stem, name=Path(imagery).stem, approved=box(w, s, e, n))


period_opt = click.option("--period", default=None, help="Date range YYYY-MM-DD/YYYY-MM-DD of the images to use.")
park_opt = click.option("--park", "park_path", default=None, type=click.Path(exists=True, dir_okay=False),
                        help="Park boundary: its CRS and window (footprint + ring) define the grid. Default: the image extent.")
ring_opt = click.option("--ring-m", type=float, default=None, help="Ring around the park in metres (default 3000).")


@click.group(name="landcover")
def command() -> None:
    """Land-cover training, prediction, accuracy sampling and assessment."""


@command.command()
@click.argument("imagery")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="Labelled polygons (GeoJSON/GPKG/SHP).")
@click.option("--class-field", default="class", show_default=True, help="Field holding the class of each polygon.")
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), help="Reference class raster (e.g. WorldCover export).")
@click.option("--schema", default=None, help="Class schema of the labels/reference: worldcover, dynamic_world, eolearn, park, simulate.")
@click.option("--context/--no-context", default=False, show_default=True, help="Add context (top-hat / local spread) features.")
@click.option("--folds", type=int, default=4, show_default=True, help="Folds of the spatially blocked CV.")
@click.option("--block-px", type=int, default=50, show_default=True, help="CV block size in pixels.")
@click.option("--lines/--no-lines", default=False, show_default=True,
              help="Add directional line top-hats (5, 9, 15 px) for thin roads.")
@click.option("--ridges/--no-ridges", default=False, show_default=True, help="Add ridge features (road pixel vs its neighbours).")
@click.option("--harmonics", type=click.IntRange(0, 3), default=0, show_default=True,
              help="Annual NDVI harmonics fitted over the dated scenes (needs >= 2N+3 scenes in the period).")
@click.option("--thin/--no-thin", default=False, show_default=True,
              help="Learn from the blocked CV on which side the labels put two-pixel-wide runs (thin roads) and "
                   "thin predictions to match.")
@click.option("--drop-edges/--keep-edges", default=False, show_default=True,
              help="Leave parcel-edge pixels of the common classes out of training (noisy parcel labels).")
@click.option("--estimator", type=click.Choice(["rf", "et", "etgb"]), default="rf", show_default=True,
              help="Random forest (fast to apply), extra-trees (better on noisy parcel labels) or a soft vote of "
                   "extra-trees and class-balanced gradient boosting (best on rare classes, slowest).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Model file to write (.joblib).")
@period_opt
@park_opt
@ring_opt
@click.option("--seed", type=int, default=42, show_default=True)
def train(imagery, labels, class_field, reference, schema, context, lines, ridges, harmonics, thin, drop_edges, folds, block_px,
          estimator, out, period, park_path, ring_m, seed):
    """Train a model on IMAGERY from labelled polygons or a reference raster; report blocked-CV accuracy."""
    from parkscan.aoi.errors import ModelError
    from parkscan.models.landcover.features import FeatureSpec
    from parkscan.models.landcover.training import labels_from_polygons, labels_from_raster, train_from_dataset
    from parkscan.sources.imagery import open_imagery

    if bool(labels) == bool(reference):
        raise click.UsageError("give exactly one of --labels or --reference")
    park = _park_for(park_path, imagery)
    ds = open_imagery(imagery, park, period=period, ring_m=ring_m if park_path else 0.0)
    y = labels_from_polygons(labels, ds, field=class_field, schema=schema) if labels else \
        labels_from_raster(reference, ds, schema=schema or "worldcover")
    bands = tuple(b for b in ("B02", "B03", "B04", "B08", "B11", "B12") if b in ds.data_vars)
    if len(bands) < 4:
        raise ModelError(f"{imagery}: the imagery needs at least B02/B03/B04/B08 (+B11/B12); found {list(ds.data_vars)}")
    idx = tuple(i for i in ("NDVI", "NDBI", "MNDWI", "BSI") if all(b in bands for b in __import__(
        "parkscan.models.landcover.indices", fromlist=["INDICES"]).INDICES[i][1]))
    try:
        spec = FeatureSpec(bands=bands, indices=idx, context=(3, 7) if context else (), lines=(5, 9, 15) if lines else (),
                           ridges=ridges, harmonics=harmonics,
                           index_stats=("median", "min", "max", "p10", "p90", "std") if harmonics else ("median", "min", "max"))
    except ValueError as err:
        raise ModelError(f"{imagery}: {err}") from err
    from parkscan.models.landcover.training import ESTIMATOR_NAMES

    model = train_from_dataset(ds, y, spec=spec, n_folds=folds, block_px=block_px, seed=seed, estimator=estimator,
                               drop_edges=drop_edges, thin=thin,
                               description=f"{ESTIMATOR_NAMES[estimator]} trained on {Path(labels or reference).name}")
    model.save(out)
    cv = model.meta.get("cv")
    click.echo(f"model written to {out}")
    if model.thinning:
        click.echo("learned thinning of two-pixel runs: " + ", ".join(
            f"{k}: drop the {'/'.join(v)} end" for k, v in model.meta.get("thinning", {}).items()))
    if cv:
        click.echo(f"blocked CV: OA {cv['oa']:.3f}, kappa {cv['kappa']:.3f}")
        for name, d in cv["per_class"].items():
            click.echo(f"  {name:<12} P {d['precision']:.2f}  R {d['recall']:.2f}  F1 {d['f1']:.2f}  n {d['support']}")


@command.command()
@click.argument("imagery")
@click.option("--model", "model_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Model from `parkscan landcover train` (default: the index rules).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Class map GeoTIFF to write.")
@click.option("--chunk", type=int, default=1024, show_default=True, help="Block edge in pixels for dask prediction.")
@period_opt
@park_opt
@ring_opt
def predict(imagery, model_path, out, chunk, period, park_path, ring_m):
    """Classify IMAGERY into the park classes (1 built_up … 5 bare_soil, 0 no data) and write a GeoTIFF."""
    import numpy as np
    import rasterio

    from parkscan.aoi.atomic import atomic_path
    from parkscan.models.landcover.analysis import cube_of
    from parkscan.models.landcover.classes import PARK_CLASSES
    from parkscan.models.landcover.model import load_model
    from parkscan.models.landcover.predict import predict_dataset
    from parkscan.models.landcover.rules import classify_rules
    from parkscan.sources.imagery import open_imagery

    park = _park_for(park_path, imagery)
    ds = open_imagery(imagery, park, period=period, ring_m=ring_m if park_path else 0.0,
                      chunks={"x": chunk, "y": chunk})
    if model_path:
        classes = predict_dataset(load_model(model_path), ds, chunk=chunk).values
    else:
        cube, bands = cube_of(ds)
        classes = classify_rules(cube, bands)
    profile = {"driver": "GTiff", "dtype": "uint8", "count": 1, "height": classes.shape[0], "width": classes.shape[1],
               "crs": ds.rio.crs, "transform": ds.rio.transform(), "nodata": 0, "compress": "deflate"}
    with atomic_path(out, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(classes.astype(np.uint8), 1)
            dst.update_tags(CLASSES=json.dumps({i + 1: n for i, n in enumerate(PARK_CLASSES)}),
                            METHOD="model" if model_path else "index rules", DATES=",".join(ds.attrs.get("dates", [])))
    counts = np.bincount(classes.ravel(), minlength=len(PARK_CLASSES) + 1)
    px_ha = abs(ds.rio.transform().a * ds.rio.transform().e) / 1e4
    click.echo(f"class map written to {out}")
    for i, n in enumerate(PARK_CLASSES, start=1):
        click.echo(f"  {n:<12} {counts[i] * px_ha:10.1f} ha")


@command.command()
@click.argument("class_map", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Sample points CSV to write.")
@click.option("--n", "n_total", type=int, default=None, help="Total sample size (default: from --target-se).")
@click.option("--target-se", type=float, default=0.01, show_default=True, help="Target standard error of overall accuracy.")
@click.option("--expected-ua", type=float, default=0.8, show_default=True, help="Expected user's accuracy of every class.")
@click.option("--min-per-class", type=int, default=50, show_default=True, help="Minimum sample size of a class (stratum).")
@click.option("--seed", type=int, default=42, show_default=True)
def sample(class_map, out, n_total, target_se, expected_ua, min_per_class, seed):
    """Stratified random sample of CLASS_MAP for interpretation (Olofsson et al. 2014 design).

    Writes OUT (id, lon, lat, x, y, map_class, reference) and OUT.design.json (mapped areas). Fill the empty
    `reference` column with the class you see (e.g. on very-high-resolution imagery), then run `assess`.
    """
    import csv

    import numpy as np
    import rasterio
    from pyproj import Transformer

    from parkscan.aoi.atomic import atomic_open, write_text
    from parkscan.models.landcover.classes import PARK_CLASSES
    from parkscan.models.landcover.olofsson import allocate, sample_size, stratified_sample

    with rasterio.open(class_map) as src:
        m = src.read(1)
        transform, crs = src.transform, src.crs
    px_ha = abs(transform.a * transform.e) / 1e4 if crs and crs.is_projected else None
    codes = [c for c in range(1, len(PARK_CLASSES) + 1) if (m == c).any()]
    if not codes:
        raise click.ClickException(f"{class_map}: no classified pixel (values 1–5)")
    counts = np.array([np.count_nonzero(m == c) for c in codes], float)
    W = counts / counts.sum()
    n = n_total or sample_size(W, [expected_ua] * len(codes), target_se=target_se)
    n = max(n, min_per_class * len(codes)) if n_total is None else n
    alloc = allocate(n, W, min_per_stratum=min_per_class)
    rows, cols = stratified_sample(m, dict(zip(codes, alloc.tolist())), seed=seed)
    xs, ys = rasterio.transform.xy(transform, rows, cols)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(np.asarray(xs), np.asarray(ys))
    with atomic_open(out, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "lon", "lat", "x", "y", "row", "col", "map_class", "reference"])
        for i, (r, c) in enumerate(zip(rows, cols)):
            w.writerow([i + 1, f"{lon[i]:.7f}", f"{lat[i]:.7f}", f"{xs[i]:.2f}", f"{ys[i]:.2f}", int(r), int(c),
                        PARK_CLASSES[int(m[r, c]) - 1], ""])
    design = {"class_map": str(class_map), "seed": seed, "pixels": {PARK_CLASSES[c - 1]: int(k) for c, k in zip(codes, counts)},
              "pixel_ha": px_ha, "allocation": {PARK_CLASSES[c - 1]: int(a) for c, a in zip(codes, alloc)},
              "target_se": target_se, "expected_ua": expected_ua}
    write_text(str(out) + ".design.json", json.dumps(design, indent=1))
    click.echo(f"{len(rows)} sample points written to {out} (" + ", ".join(f"{k} {v}" for k, v in design["allocation"].items()) + ")")


@command.command()
@click.argument("points", type=click.Path(exists=True, dir_okay=False))
@click.option("--design", type=click.Path(exists=True, dir_okay=False), default=None, help="Design JSON (default POINTS.design.json).")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False), help="Write the assessment as JSON.")
def assess(points, design, out):
    """Error matrix in area proportions, accuracies and error-adjusted areas ± 95% CI from interpreted POINTS."""
    import numpy as np
    import pandas as pd

    from parkscan.aoi.atomic import write_text
    from parkscan.aoi.errors import ModelError
    from parkscan.models.landcover.classes import PARK_CLASSES, class_code
    from parkscan.models.landcover.olofsson import estimate

    design_path = Path(design or str(points) + ".design.json")
    if not design_path.is_file():
        raise ModelError(f"{design_path}: the sample design file is missing; it is written by `parkscan landcover sample`")
    d = json.loads(design_path.read_text(encoding="utf-8"))
    df = pd.read_csv(points, dtype=str, keep_default_na=False)
    for col in ("map_class", "reference"):
        if col not in df.columns:
            raise ModelError(f"{points}: no {col!r} column")
    empty = df["reference"].str.strip() == ""
    if empty.any():
        raise ModelError(f"{points}: {int(empty.sum())} points have no interpreted 'reference' class (first at row "
                         f"{int(np.flatnonzero(empty)[0]) + 2}); fill them in or delete those rows")
    try:
        ref = np.array([class_code(v) for v in df["reference"]])
        mp = np.array([class_code(v) for v in df["map_class"]])
    except ModelError as err:
        raise ModelError(f"{points}: {err}") from err
    codes = [class_code(k) for k in d["pixels"]]
    codes = sorted(set(codes) | set(ref.tolist()))
    k = len(codes)
    counts = np.zeros((k, k), int)
    for a, b in zip(mp, ref):
        counts[codes.index(a), codes.index(b)] += 1
    unit = "ha" if d.get("pixel_ha") else "px"
    area = np.array([d["pixels"].get(PARK_CLASSES[c - 1], 0) * (d.get("pixel_ha") or 1.0) for c in codes])
    est = estimate(counts, area, [PARK_CLASSES[c - 1] for c in codes])
    rep = est.to_dict(unit=unit)
    click.echo(f"overall accuracy {est.overall:.3f} ± {rep['overall_ci95']:.3f} (95% CI), n = {int(counts.sum())}")
    click.echo(f"{'class':<12}{'mapped':>12}{'adjusted':>12}{'± 95% CI':>11}{'UA':>7}{'PA':>7}  ({unit})")
    for c, r in rep["classes"].items():
        pa = r["producers"]
        click.echo(f"{c:<12}{r['mapped_' + unit]:12.1f}{r['area_' + unit]:12.1f}{r['ci95_' + unit]:11.1f}"
                   f"{r['users']:7.2f}{pa if pa == pa else float('nan'):7.2f}")
    if out:
        write_text(out, json.dumps(rep, indent=1))
