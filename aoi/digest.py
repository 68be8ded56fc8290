"""Checksums of input files, shared by every layer that records what it read (manifests, fetch records)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["sha256_file", "sha256_folder"]

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike, *, chunk: int = _CHUNK) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks of ``chunk`` bytes.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_folder(folder: str | os.PathLike) -> tuple[int, str]:
    """(total bytes, SHA-256) of a folder (e.g. a Sentinel-2 ``.SAFE``): the digest of its sorted
    ``relative/posix/path<TAB>sha256-of-file<LF>`` lines, so the same folder gives the same digest in
    the fetch manifest and the screening manifest.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_bytes(b"abc")
    >>> sha256_folder(d)[0]
    3
    """
    root = Path(folder)
    h = hashlib.sha256()
    total = 0
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        total += f.stat().st_size
        h.update(f"{f.relative_to(root).as_posix()}\t{sha256_file(f)}\n".encode())
    return total, h.hexdigest()
