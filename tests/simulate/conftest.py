"""Session fixtures: one small scenario (and one hard one) simulated once for the whole folder."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    from parkscan.sources.simulate import simulate

    return simulate(tmp_path_factory.mktemp("small"), seed=11, preset="small")


@pytest.fixture(scope="session")
def hard(tmp_path_factory):
    from parkscan.sources.simulate import simulate

    return simulate(tmp_path_factory.mktemp("hard"), seed=12, preset="hard")
