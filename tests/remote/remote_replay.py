"""Replay recorded real HTTP answers (vcrpy cassettes) from the loopback server.

Bodies stored as text are served as UTF-8; ``!!binary`` bodies (PyYAML gives ``bytes``) that are
gzip-compressed are decompressed; ``Content-Encoding``/``Content-Length`` headers are dropped
(the loopback server sets its own). Hostnames in bodies (``next`` links, OData URIs) are rewritten
to ``http://127.0.0.1:PORT/<host>``, so a recorded API appears at ``server.url + "/" + host + path``.

Requests are matched on method + path, then scored: same query and JSON body (ignoring
``limit``) beats same paging parameters (``start``/``rows``/``token``/``next``), which beats the
path alone; among equals, the next not yet served wins.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

from remote_loopback import LoopbackServer, Reply

_PAGING = ("start", "rows", "token", "next", "page")


def _body_bytes(body) -> bytes:
    s = (body or {}).get("string")
    if s is None:
        return b""
    if isinstance(s, bytes):
        return gzip.decompress(s) if s[:2] == b"\x1f\x8b" else s
    return s.encode("utf-8")


def _norm_json(raw):
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        d = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(d, dict):
        d.pop("limit", None)
    return d


class Replay:
    """Serve the interactions of some cassettes under their hosts' prefixes."""

    def __init__(self, server: LoopbackServer, cassettes: list[Path]):
        self.server = server
        self.entries: list[dict] = []
        self.hosts: set[str] = set()
        self.served: list[int] = []
        self.overrides: dict[str, Reply] = {}
        for c in cassettes:
            for it in yaml.safe_load(Path(c).read_text(encoding="utf-8"))["interactions"]:
                req, resp = it["request"], it["response"]
                u = urlsplit(req["uri"])
                self.hosts.add(u.netloc)
                self.entries.append({
                    "method": req["method"].upper(), "host": u.netloc, "path": u.path.rstrip("/") or "/",
                    "query": sorted(parse_qsl(u.query, keep_blank_values=True)),
                    "body": _norm_json(req.get("body")), "status": resp["status"]["code"],
                    "headers": {k: (v[0] if isinstance(v, list) else v) for k, v in resp["headers"].items()},
                    "data": _body_bytes(resp.get("body")),
                })
        for host in self.hosts:
            server.route("GET", f"/{host}/.*", self._handle)
            server.route("POST", f"/{host}/.*", self._handle)

    def base(self, host: str) -> str:
        return f"{self.server.url}/{host}"

    def rewrite(self, data: bytes) -> bytes:
        for host in self.hosts:
            for scheme in (b"https://", b"http://"):
                data = data.replace(scheme + host.encode(), f"{self.server.url}/{host}".encode())
        return data

    def _handle(self, req) -> Reply:
        host, _, rest = req.raw_path.lstrip("/").partition("/")
        u = urlsplit("/" + rest)
        path = u.path.rstrip("/") or "/"
        if path in self.overrides or req.raw_path in self.overrides:
            return self.overrides.get(req.raw_path) or self.overrides[path]
        query = sorted(parse_qsl(u.query, keep_blank_values=True))
        body = _norm_json(req.body) if req.body else None
        paging = [(k, v) for k, v in query if k in _PAGING]
        best, best_score = None, -1
        for i, e in enumerate(self.entries):
            if e["host"] != host or e["path"] != path:
                continue
            if not (e["method"] == req.method or (req.method == "HEAD" and e["method"] == "GET")):
                continue
            score = 1
            e_paging = [(k, v) for k, v in e["query"] if k in _PAGING]
            if e_paging == paging and (not isinstance(body, dict) or not isinstance(e["body"], dict)
                                       or all(body.get(k) == e["body"].get(k) for k in _PAGING)):
                score = 2
            if e["query"] == query and e["body"] == body:
                score = 3
            if i in self.served:
                score -= 0.5
            if score > best_score:
                best, best_score = i, score
        if best is None:
            return Reply(404, b'{"detail": "no recorded answer"}', {"Content-Type": "application/json"})
        self.served.append(best)
        e = self.entries[best]
        headers = {k: v for k, v in e["headers"].items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding", "connection")}
        return Reply(e["status"], self.rewrite(e["data"]), headers)


def give_payloads(replay, *, corrupt=()):
    """Give each recorded product a body (bodies were not recorded) and patch size/MD5 in its OData answer."""
    files = {}
    for i, e in enumerate(replay.entries):
        m = re.fullmatch(r"/apihub/odata/v1/Products\('([0-9a-f-]+)'\)", e["path"])
        if not m or e["method"] != "GET" or e["status"] != 200:
            continue
        pid = m.group(1)
        if pid not in files:
            files[pid] = os.urandom(40_000 + 1000 * len(files))
        data = files[pid]
        d = json.loads(e["data"])
        d["d"]["ContentLength"] = str(len(data))
        d["d"]["Checksum"]["Value"] = hashlib.md5(data).hexdigest()
        e["data"] = json.dumps(d).encode()
        name = d["d"]["Name"] + ".zip"
        body = data if pid not in corrupt else data[:-1] + bytes([data[-1] ^ 1])
        replay.overrides[f"/apihub/odata/v1/Products('{pid}')/$value"] = Reply(
            200, body, {"Content-Disposition": f'inline;filename="{name}"', "X-Ranged": "1"})
    return files
