"""A small CDSE stand-in written from CDSE's public API documentation (OData catalogue, token, download, Nodes)."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from urllib.parse import parse_qs

from remote_loopback import LoopbackServer, Reply

USER, PASSWORD = "cdse-user@example.org", "cdse-Passw0rd!"


class FakeCDSE:
    """Token endpoint at /auth/token, catalogue at /odata/v1, downloads at /dl/odata/v1 (redirecting to /zip)."""

    def __init__(self, server: LoopbackServer, products: list[dict], *, expires_in: int = 600):
        self.server = server
        self.products = {p["Id"]: p for p in products}
        self.bodies: dict[str, bytes] = {}
        self.nodes: dict[str, dict] = {}  # product id -> nested {name: bytes | dict}
        self.tokens: set[str] = set()
        self.refresh: set[str] = set()
        self.expires_in = expires_in
        self.grants = []
        self.queries = []
        server.route("POST", "/auth/token", self.token)
        server.route("GET", "/odata/v1/Products", self.search)
        server.route("GET", r"/dl/odata/v1/Products\((.+)", self.download)
        server.route("GET", r"/zip/odata/v1/Products\((.+)", self.download)

    @property
    def urls(self) -> dict:
        u = self.server.url
        return {"catalogue_url": u + "/odata/v1", "download_url": u + "/dl/odata/v1", "token_url": u + "/auth/token"}

    def add_body(self, pid: str, data: bytes, *, checksum: str | None = None) -> None:
        self.bodies[pid] = data
        p = self.products[pid]
        p["ContentLength"] = len(data)
        p["Checksum"] = [{"Value": checksum or hashlib.md5(data).hexdigest(), "Algorithm": "MD5",
                          "ChecksumDate": "2024-05-02T10:00:00Z"},
                         {"Value": "0" * 64, "Algorithm": "BLAKE3", "ChecksumDate": "2024-05-02T10:00:00Z"}]

    # -- endpoints --------------------------------------------------------------------------
    def token(self, req) -> Reply:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        self.grants.append(form.get("grant_type"))
        ok = form.get("client_id") == "cdse-public" and (
            (form.get("grant_type") == "password" and form.get("username") == USER and form.get("password") == PASSWORD)
            or (form.get("grant_type") == "refresh_token" and form.get("refresh_token") in self.refresh))
        if not ok:
            return Reply(401, json.dumps({"error": "invalid_grant", "error_description": "Invalid user credentials"}).encode(),
                         {"Content-Type": "application/json"})
        at, rt = "eyJ" + secrets.token_hex(16), "eyR" + secrets.token_hex(16)
        self.tokens.add(at)
        self.refresh.add(rt)
        return Reply(200, json.dumps({"access_token": at, "expires_in": self.expires_in, "refresh_token": rt,
                                      "refresh_expires_in": 3600, "token_type": "Bearer"}).encode(),
                     {"Content-Type": "application/json"})

    def search(self, req) -> Reply:
        flt = req.query.get("$filter", [""])[0]
        self.queries.append(flt)
        top = int(req.query.get("$top", ["20"])[0])
        skip = int(req.query.get("$skip", ["0"])[0])
        sel = list(self.products.values())
        m = re.search(r"Collection/Name eq '([^']+)'", flt)
        if m:
            sel = [p for p in sel if p["_collection"] == m.group(1)]
        for op, val in re.findall(r"ContentDate/Start (ge|le|gt|lt) (\S+)", flt):
            sel = [p for p in sel if (p["ContentDate"]["Start"] >= val if op in ("ge", "gt") else p["ContentDate"]["Start"] <= val)]
        m = re.search(r"'cloudCover' and att/OData.CSC.DoubleAttribute/Value le ([\d.]+)", flt)
        if m:
            sel = [p for p in sel if p["_cloud"] <= float(m.group(1))]
        page = sel[skip:skip + top]
        out = {"@odata.context": "$metadata#Products",
               "value": [{k: v for k, v in p.items() if not k.startswith("_")} for p in page]}
        if skip + top < len(sel):
            q = "&".join(f"{k}={v[0]}" for k, v in req.query.items() if k != "$skip")
            out["@odata.nextLink"] = f"{self.server.url}/odata/v1/Products?{q}&$skip={skip + top}"
        return Reply(200, json.dumps(out).encode(), {"Content-Type": "application/json"})

    def _authorised(self, req) -> bool:
        auth = req.headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def download(self, req) -> Reply:
        if not self._authorised(req):
            return Reply(401, b'{"detail": "Expired signature!"}', {"Content-Type": "application/json"})
        m = re.match(r"/(dl|zip)/odata/v1/Products\(([^)]+)\)(.*)$", req.path)
        where, pid, rest = m.groups()
        if rest == "/$value":
            if where == "dl":  # CDSE redirects downloads to its zipper host
                return Reply(302, b"", {"Location": self.server.url + req.path.replace("/dl/", "/zip/", 1)})
            return Reply(200, self.bodies[pid], {"Content-Type": "application/zip", "X-Ranged": "1"})
        parts = re.findall(r"/Nodes\(([^)]+)\)", rest)
        node = self.nodes[pid]
        for name in parts:
            node = node[name]
        if rest.endswith("/Nodes"):
            rows = [{"Id": k, "Name": k, "ContentLength": len(v) if isinstance(v, bytes) else 0,
                     "ChildrenNumber": len(v) if isinstance(v, dict) else 0} for k, v in node.items()]
            return Reply(200, json.dumps({"result": rows}).encode(), {"Content-Type": "application/json"})
        if rest.endswith("/$value") and isinstance(node, bytes):
            return Reply(200, node, {"Content-Type": "application/octet-stream", "X-Ranged": "1"})
        return Reply(404, b'{"detail": "not found"}')


def product(pid: str, name: str, start: str, cloud: float, collection="SENTINEL-2") -> dict:
    return {"@odata.mediaContentType": "application/octet-stream", "Id": pid, "Name": name,
            "ContentType": "application/octet-stream", "ContentLength": 0, "Online": True,
            "ContentDate": {"Start": start, "End": start},
            "Footprint": "geography'SRID=4326;POLYGON ((120.5 31.2, 121.5 31.2, 121.5 32.2, 120.5 32.2, 120.5 31.2))'",
            "Checksum": [], "Attributes": [{"Name": "cloudCover", "Value": cloud, "ValueType": "Double"}],
            "_collection": collection, "_cloud": cloud}
