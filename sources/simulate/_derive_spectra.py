"""Dev-time derivation of the simulator's class spectra (not used at run time).

Run from the project root::

    .venv/bin/python -m parkscan.sources.simulate._derive_spectra ../shared/data/sentinel2-slovenia-eolearn \
        > sources/simulate/_spectra_data.py

Method
------
Input: ``REFERENCE_SCENES.npy`` (5 real Sentinel-2 L1C scenes, 13 bands, TOA reflectance, 101×100 px at 10 m,
Slovenia, eo-learn example data, MIT / Copernicus Sentinel data) and the ``LULC.npy`` reference raster.

1. Keep the three clear scenes (indices 2–4; scenes 0–1 are hazy: B02 mean 0.30 and 0.15 against 0.08).
2. TOA → surface reflectance by dark-object subtraction (DOS1, Chavez 1996): the dark object (0.1th percentile of
   B02 over all clear pixels) is assumed to have 1 % reflectance; the resulting blue path reflectance is carried to
   the other bands with a Rayleigh λ⁻⁴ law. This is a first-order L1C → L2A approximation.
3. Class means and within-class covariances (pooled over the scenes after removing each scene's class mean, so
   phenology between dates does not inflate the within-class spread) for the ten L2A bands at 10/20 m:
   B02 B03 B04 B05 B06 B07 B08 B8A B11 B12.

   - ``vegetation`` ← LULC 2 forest (+4 shrubland)
   - ``cropland``   ← LULC 1 cultivated + 3 grassland (Slovenian RABA parcels; summer meadows and fields)
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
#: indices of BANDS in the 13-band L1C order B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B10 B11 B12
IDX = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12]
WAVELENGTH_NM = np.array([492, 560, 665, 704, 740, 783, 833, 865, 1614, 2202], float)
CLASSES = {"vegetation": (2, 4), "cropland": (1, 3)}


def derive(folder: Path) -> dict:
    scenes = np.load(folder / "REFERENCE_SCENES.npy")[2:]
    lulc = np.load(folder / "TestEOPatch" / "mask_timeless" / "LULC.npy")[..., 0]
    toa = scenes[..., IDX].astype(float)
    dark_blue = np.percentile(toa[..., 0], 0.1)
    path_blue = dark_blue - 0.01
    path = path_blue * (WAVELENGTH_NM[0] / WAVELENGTH_NM) ** 4
    boa = np.clip(toa - path, 1e-4, None)
    out = {"path_reflectance": path.round(5).tolist()}
    for name, codes in CLASSES.items():
        mask = np.isin(lulc, codes)
        per_scene = [boa[s][mask] for s in range(boa.shape[0])]
        mean = np.mean([x.mean(0) for x in per_scene], axis=0)
        centred = np.concatenate([x - x.mean(0) for x in per_scene])
        cov = np.cov(centred, rowvar=False)
        out[name] = {"n_pixels": int(mask.sum()) * len(per_scene), "mean": mean.round(5).tolist(),
                     "cov": cov.round(7).tolist()}
    return out


def main(argv: list[str]) -> None:
    res = derive(Path(argv[0]))
    print('"""Class spectra derived by ``_derive_spectra.py`` from real Sentinel-2 data (generated, do not edit)."""')
    print("from __future__ import annotations\n")
    print(f"BANDS = {BANDS!r}")
    print(f"PATH_REFLECTANCE = {res.pop('path_reflectance')!r}")
    print("DERIVED = {")
    for name, d in res.items():
        print(f"    {name!r}: {{")
        print(f"        'n_pixels': {d['n_pixels']},")
        print(f"        'mean': {d['mean']!r},")
        print("        'cov': [")
        for row in d["cov"]:
            print(f"            {row!r},")
        print("        ],")
        print("    },")
    print("}")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
