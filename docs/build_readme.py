"""Assemble README.md from docs/readme/_head.md and the section files (run: python docs/build_readme.py)."""
from pathlib import Path

ORDER = ["_head", "screening", "aoi", "simulate", "mobile", "landcover", "satellite", "fetch", "maps", "batch"]
root = Path(__file__).resolve().parent
parts = [(root / "readme" / f"{name}.md").read_text(encoding="utf-8").strip() for name in ORDER]
(root.parent / "README.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")
print(f"README.md: {sum(p.count(chr(10)) for p in parts)} lines")
