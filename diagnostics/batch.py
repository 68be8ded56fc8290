"""Screen many parks on a Dask cluster and rank them.

Each park is an independent task on ``dask.distributed`` (a ``LocalCluster`` by default, any
scheduler address otherwise). A park's outputs are written into a temporary folder that is
renamed into place when complete, and its status (``done`` or ``failed``, with the error) is
recorded atomically in ``OUT/status/<park>.json``. A park that fails is recorded and the
others go on; ``resume=True`` skips parks already done with the same inputs.

Layout of OUT::

    parks/<park_id>/        one screening per park (report.html, map.html, findings.geojson, ...)
    status/<park_id>.json   done | failed, error message, timings, input fingerprint
    parks_ranking.csv       parks ranked by their screening score (failed parks listed last)
    parks_overview.html     offline map of all parks coloured by score
    batch_summary.json      counts, timings, failures
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from parkscan.aoi.atomic import safe_filename, write_text
from parkscan.aoi.errors import DiagnosticsError, ParkscanError

__all__ = ["BatchResult", "ParkTask", "run_batch", "park_score", "screen_task"]

log = logging.getLogger(__name__)

#: inputs a batch row may carry (paths relative to the PARKS file)
TASK_INPUTS = ("enterprises", "mobile", "imagery", "before", "after", "no2", "so2", "thermal", "fires", "reference")
#: per-park attributes that become screening parameters (paths relative to the PARKS file)
TASK_PARAMS = {"farmland": "landcover_farmland", "landcover_model": "landcover_model"}


@dataclass(frozen=True)
class ParkTask:
    """One park of a batch, ready to be shipped to a worker."""

    park_id: str
    """Identifier, used as the folder name (sanitised)."""
    park: Any
    """The :class:`~parkscan.aoi.Park`, or None when it could not be read."""
    error: str | None = None
    """Why the park could not be read (then it is recorded as failed without running)."""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """``screen()`` inputs for this park (absolute paths)."""

    @property
    def folder(self) -> str:
        """Safe folder name for the park id."""
        return safe_name(self.park_id)

    def fingerprint(self) -> str:
        """Hash of what determines the park's screening (boundary, inputs), for resume."""
        h = hashlib.sha256()
        if self.park is not None:
            h.update(self.park.approved.wkb)
            if self.park.managed is not None:
                h.update(self.park.managed.wkb)
        h.update(json.dumps(self.inputs, sort_keys=True, default=str).encode())
        return h.hexdigest()[:16]


@dataclass
class BatchResult:
    """What :func:`run_batch` did."""

    out_dir: Path
    """The batch output folder."""
    done: list[str] = field(default_factory=list)
    """Parks screened in this run."""
    skipped: list[str] = field(default_factory=list)
    """Parks already done (``resume``)."""
    failed: dict[str, str] = field(default_factory=dict)
    """Park id → error message."""
    seconds: float = 0.0
    """Wall time of the run."""


def safe_name(text: str) -> str:
    """A folder-safe version of a park id (keeps CJK, drops path separators and control characters)."""
    return safe_filename(text, default="park")


def park_score(findings: Sequence[Any]) -> float:
    """Park-level score: probability-style union of finding scores, ``1 − Π(1 − severity × confidence)``.

    Examples
    --------
    >>> class F: score = 0.5
    >>> round(park_score([F(), F()]), 2)
    0.75
    """
    p = 1.0
    for f in findings:
        p *= 1.0 - min(max(float(f.score), 0.0), 1.0)
    return 1.0 - p


def screen_task(task: ParkTask, out_root: str, lang: str = "en") -> dict[str, Any]:
    """Screen one park and write its outputs atomically (runs on a worker).

    Returns a status record; errors are caught here so that one park never stops the batch.
    """
    t0 = time.perf_counter()
    out_root = Path(out_root)
    final = out_root / "parks" / task.folder
    tmp = out_root / "parks" / f".tmp-{task.folder}-{os.getpid()}-{time.monotonic_ns()}"
    status: dict[str, Any] = {"park_id": task.park_id, "fingerprint": task.fingerprint(), "folder": f"parks/{task.folder}"}
    try:
        if task.park is None:
            raise DiagnosticsError(task.error or "park could not be read")
        from parkscan.diagnostics import screen

        scr = screen(task.park, lang=lang, **dict(task.inputs))
        tmp.mkdir(parents=True, exist_ok=True)
        scr.write(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        counts: dict[str, int] = {}
        for f in scr.findings:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        visits = getattr(scr, "site_visits", None)
        top = []
        if visits is not None and len(visits):
            top = [str(n) for n in list(visits["name"])[:3]]
        status.update(
            state="done",
            name=task.park.name,
            score=round(park_score(scr.findings), 4),
            n_findings=len(scr.findings),
            counts=counts,
            top_sites=top,
            area_ha=round(task.park.area_ha()["approved"], 2),
            approximate=bool(task.park.metadata.get("approximate", False)),
        )
    except ParkscanError as err:
        status.update(state="failed", error=" ".join(str(err).split()), error_type=type(err).__name__)
    except Exception as err:  # noqa: BLE001 - a bug in one park must not stop the batch; kept with traceback
        status.update(state="failed", error=f"{type(err).__name__}: {err}", error_type=type(err).__name__,
                      traceback=traceback.format_exc())
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    status["name"] = status.get("name") or (task.park.name if task.park is not None else task.park_id)
    status["seconds"] = round(time.perf_counter() - t0, 3)
    write_text(out_root / "status" / f"{task.folder}.json", json.dumps(status, ensure_ascii=False, indent=1))
    return status


def load_tasks(parks_path: str | os.PathLike, *, inputs: Mapping[str, Any] | None = None) -> list[ParkTask]:
    """Read a PARKS file into tasks; unreadable parks become failed tasks, never a crash."""
    from parkscan.aoi import read_parks

    parks_path = Path(parks_path)
    tasks: list[ParkTask] = []
    seen: dict[str, int] = {}
    for pid, park in read_parks(parks_path):
        pid = str(pid)
        base = pid
        while safe_name(pid) in seen:  # ids naming the same folder ("A/B", "A B", "A_B") get a suffix
            seen[safe_name(base)] += 1  # rather than overwriting each other's outputs and status
            pid = f"{base}_{seen[safe_name(base)]}"
        seen[safe_name(pid)] = 0
        per_park = dict(inputs or {})
        if isinstance(park, ParkscanError):
            tasks.append(ParkTask(park_id=pid, park=None, error=" ".join(str(park).split()), inputs=per_park))
            continue
        for key in TASK_INPUTS:  # per-park inputs from file attributes, relative to the PARKS file
            val = park.metadata.get(key)
            if val in (None, ""):
                continue
            if key in ("before", "after"):
                per_park[key] = str(val)
            elif key in ("mobile", "no2", "so2"):
                per_park[key] = [str((parks_path.parent / v.strip()).resolve()) for v in str(val).split(";") if v.strip()]
            else:
                per_park[key] = str((parks_path.parent / str(val)).resolve())
        params = dict(per_park.get("params") or {})
        for key, name in TASK_PARAMS.items():
            val = park.metadata.get(key)
            if val not in (None, ""):
                params[name] = str((parks_path.parent / str(val)).resolve())
        if params:
            per_park["params"] = params
        tasks.append(ParkTask(park_id=pid, park=park, inputs=per_park))
    return tasks


def _read_status(out_dir: Path, task: ParkTask) -> dict[str, Any] | None:
    p = out_dir / "status" / f"{task.folder}.json"
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _make_client(scheduler: str, workers: int):
    from dask.distributed import Client, LocalCluster

    if scheduler in ("local", "", None):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster
    if not scheduler.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
        raise DiagnosticsError(f"--scheduler {scheduler!r}: give 'local' or a scheduler address like tcp://HOST:8786")
    try:
        return Client(scheduler, timeout="15s"), None
    except OSError as err:
        raise DiagnosticsError(f"cannot reach the Dask scheduler at {scheduler}: {err}. Is it running?") from err


def run_batch(
    parks_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    scheduler: str = "local",
    workers: int = 2,
    resume: bool = False,
    lang: str = "en",
    inputs: Mapping[str, Any] | None = None,
    on_progress: Callable[[dict[str, Any], int, int], None] | None = None,
) -> BatchResult:
    """Screen every park of ``parks_path`` into ``out_dir`` on Dask and rank the parks.

    Parameters
    ----------
    parks_path : path
        GeoPackage/GeoJSON of park polygons, or a CSV of park points with an approved area.
    out_dir : path
        Output folder (see the module docstring for its layout).
    scheduler : str
        ``"local"`` for a LocalCluster, or a scheduler address ``tcp://HOST:PORT``.
    workers : int
        Workers of the LocalCluster (one thread each).
    resume : bool
        Skip parks whose status says done with the same inputs; failed parks are retried.
    lang : str
        Report language.
    inputs : mapping, optional
        ``screen()`` inputs shared by every park.
    on_progress : callable, optional
        Called as ``on_progress(status, n_finished, n_total)`` after each park.

    Returns
    -------
    BatchResult
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    (out / "parks").mkdir(parents=True, exist_ok=True)
    (out / "status").mkdir(parents=True, exist_ok=True)
    tasks = load_tasks(parks_path, inputs=inputs)
    if not tasks:
        raise DiagnosticsError(f"{parks_path}: no parks found")
    result = BatchResult(out_dir=out)
    todo: list[ParkTask] = []
    for task in tasks:
        st = _read_status(out, task) if resume else None
        if st and st.get("state") == "done" and st.get("fingerprint") == task.fingerprint() and (out / st.get("folder", "")).is_dir():
            result.skipped.append(task.park_id)
        else:
            todo.append(task)
    n_total, n_done = len(tasks), len(result.skipped)

    def record(st: dict[str, Any]) -> None:
        nonlocal n_done
        n_done += 1
        if st.get("state") == "done":
            result.done.append(st["park_id"])
        else:
            result.failed[st["park_id"]] = st.get("error", "")
        if on_progress is not None:
            on_progress(st, n_done, n_total)

    runnable = [t for t in todo if t.park is not None]
    for t in todo:
        if t.park is None:  # unreadable: recorded without bothering the cluster
            record(screen_task(t, str(out), lang))
    client = cluster = None
    try:
        if runnable:
            from dask.distributed import as_completed

            client, cluster = _make_client(scheduler, workers)
            futures = [client.submit(screen_task, t, str(out.resolve()), lang, pure=False, key=f"park-{i}-{t.folder}")
                       for i, t in enumerate(runnable)]
            for fut in as_completed(futures):
                record(fut.result())
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        write_ranking(out, tasks)
    result.seconds = time.perf_counter() - t0
    summary = {
        "parks": n_total, "done_this_run": len(result.done), "skipped_done": len(result.skipped),
        "failed": result.failed, "seconds": round(result.seconds, 2), "scheduler": scheduler, "workers": workers,
    }
    write_text(out / "batch_summary.json", json.dumps(summary, ensure_ascii=False, indent=1))
    return result


RANK_COLUMNS = ["rank", "park_id", "name", "status", "score", "n_findings", "counts", "top_sites", "area_ha", "approximate", "error", "folder"]


def write_ranking(out: Path, tasks: Sequence[ParkTask]) -> list[dict[str, Any]]:
    """Write parks_ranking.csv and parks_overview.html from the status files; returns the rows."""
    from parkscan.diagnostics.csvsafe import defuse

    rows = []
    for t in tasks:
        st = _read_status(out, t) or {"park_id": t.park_id, "state": "pending", "name": t.park.name if t.park else t.park_id}
        rows.append(st)
    done = sorted((r for r in rows if r.get("state") == "done"), key=lambda r: (-float(r.get("score", 0)), str(r["park_id"])))
    rest = sorted((r for r in rows if r.get("state") != "done"), key=lambda r: str(r["park_id"]))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(RANK_COLUMNS)
    for i, r in enumerate(done + rest, start=1):
        w.writerow([defuse(v) for v in [
            i if r.get("state") == "done" else "", r["park_id"], r.get("name", ""), r.get("state", ""), r.get("score", ""),
            r.get("n_findings", ""), ";".join(f"{k}={v}" for k, v in sorted((r.get("counts") or {}).items())),
            "; ".join(r.get("top_sites") or []), r.get("area_ha", ""), r.get("approximate", ""), r.get("error", ""), r.get("folder", ""),
        ]])
    write_text(out / "parks_ranking.csv", "\ufeff" + buf.getvalue())
    _overview_map(out, tasks, {r["park_id"]: r for r in rows})
    return done + rest


def _overview_map(out: Path, tasks: Sequence[ParkTask], status: Mapping[str, Mapping[str, Any]]) -> None:
    from shapely.geometry import mapping

    from parkscan.maps.interactive import render_map, save_html
    from parkscan.maps.layers import VectorLayer

    feats = []
    for t in tasks:
        if t.park is None:
            continue
        st = status.get(t.park_id, {})
        feats.append({"type": "Feature", "geometry": mapping(t.park.approved), "properties": {
            "park_id": t.park_id, "name": t.park.name, "status": st.get("state", "pending"),
            "score": st.get("score"), "n_findings": st.get("n_findings"), "approximate": bool(t.park.metadata.get("approximate", False)),
            "report": f"{st.get('folder', '')}/report.html" if st.get("state") == "done" else "",
        }})
    if not feats:
        return
    layer = VectorLayer(name="Parks", features={"type": "FeatureCollection", "features": feats}, kind="parks", color_by="score",
                        popup_fields=(("name", "Park"), ("park_id", "Id"), ("status", "Status"), ("score", "Score"),
                                      ("n_findings", "Findings"), ("approximate", "Approximate boundary")))
    fmap = render_map([layer], title="parkscan batch overview")
    save_html(fmap, out / "parks_overview.html")
