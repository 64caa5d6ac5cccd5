"""The station's web panel: a Starlette app over one bench, one runner and the result store.

Everything the panel shows of a run comes from the store, as ``hil certify`` records it; the panel
follows it as server-sent events (``/api/events``), a new snapshot each time the store or the
runner changes. It reads the bench file only for what the operator must see before Start: the
instruments and their calibration dates.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hil.certify import past_calibration
from hil.config import BenchConfig
from hil.errors import HilError
from hil.product import Product
from hil.results.store import Store
from hil.station.runner import Runner, StationBusy

PAGE = Path(__file__).with_name("panel.html")
POLL_S = 0.1  # how often the event stream looks at the store: a measurement shows within about this
HEARTBEAT_S = 10.0  # a comment line on a quiet stream, so a proxy does not close it


class Station:
    """What the routes share: the bench, the product, the store and the runner."""

    def __init__(
        self,
        config: BenchConfig,
        product: Product,
        store: Store,
        runner: Runner,
        profiles: list[str],
        today: dt.date | None = None,
    ) -> None:
        self.config, self.product, self.store, self.runner = config, product, store, runner
        self.profiles = profiles
        self._today = today
        self.planned = 0  # how many eol scenarios a certification runs (0 until collected)
        self._history_key: tuple[Any, ...] | None = None
        self._history_cache: list[dict[str, Any]] = []
        threading.Thread(target=self._plan, name="station-plan", daemon=True).start()

    def _plan(self) -> None:
        from hil.defects import collect_scenarios

        try:
            scenarios = collect_scenarios(self.runner.root / "test_suites")
        except HilError:
            return  # the panel then shows progress without a total
        self.planned = sum(1 for s in scenarios if s["eol"])

    @property
    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def bench(self) -> dict[str, Any]:
        today = self.today
        instruments = [
            {
                "name": name,
                "driver": i.driver,
                "model": i.model,
                "serial": i.serial,
                "calibration_due": i.calibration_due.isoformat(),
                "past_due": i.calibration_due < today,
            }
            for name, i in self.config.instruments.items()
        ]
        pattern = self.product.serial_number.pattern if self.product.serial_number else None
        return {
            "bench": self.config.path,
            "instruments": instruments,
            "start_blocked": past_calibration(self.config, today),
            "serial_pattern": pattern,
            "profiles": self.profiles,
        }

    def snapshot(self) -> dict[str, Any]:
        """The runner's state and, once its run is open, the run as the store has it."""
        status = self.runner.status()
        run = history = None
        if status is not None:
            history = self._history(status)
            if status["run_id"] is not None:
                run = self._run(status["run_id"], history)
        return {"status": status, "run": run, "history": history, "planned": self.planned}

    def _history(self, status: dict[str, Any]) -> list[dict[str, Any]]:
        """The unit's runs, read again only when the run starts or ends (it reads every run)."""
        key = (status["serial"], status["run_id"], status["exit_code"])
        if self._history_key != key:
            self._history_cache, self._history_key = self.store.unit_history(status["serial"]), key
        return self._history_cache

    def _run(self, run_id: int, history: list[dict[str, Any]]) -> dict[str, Any]:
        record = self.store.run_record(run_id)
        certificates = next((h["certificates"] for h in history if h["id"] == run_id), [])
        return {
            "id": run_id,
            "attempt": record["run"]["attempt"],
            "outcome": record["run"]["outcome"],
            "started": record["run"]["started"],
            "ended": record["run"]["ended"],
            "tests": [
                {
                    "scenario": t["scenario"],
                    "node_id": t["node_id"],
                    "outcome": t["outcome"],
                    "measurements": t["measurements"],
                }
                for t in record["tests"]
            ],
            "certificates": [self._certificate_url(p) for p in certificates],
        }

    def _certificate_url(self, path: str) -> dict[str, str]:
        root = self.runner.certificates.resolve()
        try:
            relative = Path(path).resolve().relative_to(root)
        except ValueError:
            return {"name": Path(path).name, "url": ""}
        return {"name": relative.name, "url": f"/certificates/{relative.as_posix()}"}


def create_app(station: Station) -> Starlette:
    page = PAGE.read_text(encoding="utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(station.runner.close)

    async def index(_: Request) -> Response:
        return HTMLResponse(page)

    async def bench(_: Request) -> Response:
        return JSONResponse(station.bench())

    async def start(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _refused(400, "the request is not JSON")
        if not isinstance(body, dict):
            return _refused(400, "the request is not a JSON object")
        serial, operator = body.get("serial"), body.get("operator")
        profile = body.get("unit_profile") or None
        try:
            station.product.check_serial(serial)
        except HilError as exc:
            return _refused(400, f"serial: {exc}", field="serial")
        if not isinstance(operator, str) or not operator.strip():
            return _refused(400, "operator: who certifies must be named", field="operator")
        bench = station.bench()
        if profile is not None and profile not in bench["profiles"]:
            return _refused(400, f"unit profile {profile!r}: not one of this bench's", field="unit_profile")
        if bench["start_blocked"] is not None:
            return _refused(409, bench["start_blocked"])
        try:
            station.runner.start(serial, operator.strip(), profile)
        except StationBusy as exc:
            return _refused(409, str(exc))
        return JSONResponse({"started": serial}, status_code=202)

    async def stop(_: Request) -> Response:
        if not station.runner.stop():
            return _refused(409, "no certification is running")
        return JSONResponse({"stopping": True}, status_code=202)

    async def current(_: Request) -> Response:
        return JSONResponse(await run_in_threadpool(station.snapshot))

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            last, quiet = None, 0.0
            while not await request.is_disconnected():
                snapshot = json.dumps(await run_in_threadpool(station.snapshot), sort_keys=True)
                if snapshot != last:
                    last, quiet = snapshot, 0.0
                    yield f"data: {snapshot}\n\n"
                elif quiet >= HEARTBEAT_S:
                    quiet = 0.0
                    yield ": still here\n\n"
                await asyncio.sleep(POLL_S)
                quiet += POLL_S

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def certificate(request: Request) -> Response:
        root = station.runner.certificates.resolve()
        path = (root / request.path_params["path"]).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return _refused(404, "no such certificate")
        return FileResponse(path, filename=path.name)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/favicon.ico", lambda _: Response(status_code=204)),
            Route("/api/bench", bench),
            Route("/api/start", start, methods=["POST"]),
            Route("/api/stop", stop, methods=["POST"]),
            Route("/api/current", current),
            Route("/api/events", events),
            Route("/certificates/{path:path}", certificate),
        ],
        lifespan=lifespan,
    )


def _refused(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)
