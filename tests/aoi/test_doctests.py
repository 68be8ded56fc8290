"""The Examples sections of the public aoi functions run as written."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["datum", "outline", "boundaries", "enterprises", "indicators", "validate", "_tables"]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    mod = importlib.import_module(f"parkscan.aoi.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
