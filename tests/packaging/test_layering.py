"""Imports point down the stack (DESIGN.md): diagnostics → maps, models, sources, aoi; models → sources, aoi;
sources → aoi; maps → aoi; aoi → none. Checked on the source text, so lazy imports inside functions count too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "aoi": set(),
    "sources": {"aoi"},
    "models": {"sources", "aoi"},
    "maps": {"aoi"},
    "diagnostics": {"maps", "models", "sources", "aoi"},
}


def _targets(path: Path, area: str) -> set[str]:
    """Top-level parkscan areas a module imports (absolute ``parkscan.X`` and relative imports leaving the area)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    depth = len(path.relative_to(ROOT / area).parts) - 1  # package depth below the area folder
    out: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            elif node.level > depth + 1:  # climbs above the area: ``from ...x`` in area/sub/mod.py
                out.add(((node.module or "").split(".") or [""])[0] or "?")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("import_module", "__import__"):
            names = [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        for n in names:
            parts = n.split(".")
            if parts[0] == "parkscan" and len(parts) > 1:
                out.add(parts[1])
    return out - {area}


@pytest.mark.parametrize("area", sorted(ALLOWED))
def test_imports_point_down_the_stack(area):
    bad = []
    for path in sorted((ROOT / area).rglob("*.py")):
        wrong = _targets(path, area) - ALLOWED[area]
        if wrong:
            bad.append(f"{path.relative_to(ROOT)} imports {sorted(wrong)}")
    assert not bad, "\n".join(bad)
