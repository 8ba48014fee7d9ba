"""Detection at the API edge: what it adds to each request, measured in the same run with the same
requests through the edge (rate limits per source, path, query, header and JSON body checks) and
without it, in front of the same minimal ASGI application (which reads the body and answers), so
that only the edge's own cost is compared. The requests are a lodging (the shipped H1 example, with
free text), a filtered list and a read.

    .venv/bin/python bench/detection_edge.py [--count 5000]

`edge_overhead(count)` returns the figures (bench/detection.py prints them beside the scoring rate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from clearguard.api.edge import DetectionEdge
from clearguard.detection.ratelimit import EdgeLimits

_EXAMPLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "examples" / "h1-import.json"
_FALLBACK = Path("/work/shared/examples/h1-import.json")


def _body() -> bytes:
    path = _EXAMPLE if _EXAMPLE.is_file() else _FALLBACK
    doc = json.loads(path.read_text())
    doc["items"][0]["description"] = "Men's leather shoes & boots, \"Deluxe\" range; O'Neill & Sons -- size 3/4"
    return json.dumps(doc).encode()


async def _inner(scope: Scope, receive: Receive, send: Send) -> None:
    """The application behind the edge: reads the body, answers 200."""
    if scope["method"] == "POST":
        more = True
        while more:
            message = await receive()
            more = bool(message.get("more_body", False))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


_LIST_QUERY = b"status=lodged&office=GB000060&name=O%27Brien%20%26%20Sons&limit=50"


def _requests(body: bytes) -> list[tuple[Scope, bytes]]:
    headers = [
        (b"host", b"clearguard.example"),
        (b"user-agent", b"broker-system/4.2 (+https://broker.example)"),
        (b"authorization", b"Bearer cg_at_" + b"x" * 43),
        (b"content-type", b"application/json"),
    ]

    def scope(method: str, path: str, query: bytes, n: int) -> Scope:
        return {
            "type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": query,
            "headers": [*headers, (b"content-length", str(n).encode())], "client": ("10.20.1.15", 50000),
            "scheme": "https", "http_version": "1.1", "server": ("127.0.0.1", 8443), "root_path": "",
        }  # fmt: skip

    return [
        (scope("POST", "/api/v1/declarations", b"", len(body)), body),
        (scope("GET", "/api/v1/declarations", _LIST_QUERY, 0), b""),
        (scope("GET", "/api/v1/declarations/26GB4TQZ1K8LJX2Y07", b"", 0), b""),
    ]  # fmt: skip


def _receiver(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _run(app: Any, requests: list[tuple[Scope, bytes]], count: int) -> tuple[float, int]:
    statuses = 0

    async def send(message: Message) -> None:
        nonlocal statuses
        if message["type"] == "http.response.start" and message["status"] == 200:
            statuses += 1

    started = time.perf_counter()
    for i in range(count):
        scope, body = requests[i % len(requests)]
        await app(scope, _receiver(body), send)
    return time.perf_counter() - started, statuses


def edge_overhead(count: int = 5000) -> dict[str, Any]:
    """Per-request time with and without the edge's checks, in the same run (best of three rounds)."""
    requests = _requests(_body())
    # Limits far above the run's rate: every request is admitted, as in normal traffic.
    limits = EdgeLimits(principal_rate="1000000/second", source_rate="1000000/second")
    on = DetectionEdge(_inner, limits=limits)
    off = DetectionEdge(_inner, limits=None)  # the edge with its checks off: the origin is still noted

    async def measure(app: Any) -> float:
        best = float("inf")
        for _ in range(3):
            seconds, ok = await _run(app, requests, count)
            if ok != count:
                raise RuntimeError(f"{count - ok} requests were refused: the benchmark's requests must pass")
            best = min(best, seconds)
        return best

    async def both() -> tuple[float, float, float]:
        await _run(on, requests, 200)  # warm up (regexes, limiter)
        return await measure(_inner), await measure(off), await measure(on)

    bare, checks_off, checks_on = asyncio.run(both())
    per = {name: seconds / count * 1e6 for name, seconds in (("bare", bare), ("off", checks_off), ("on", checks_on))}
    return {
        "requests": count,
        "mix": ["POST /api/v1/declarations (H1 example, 2 items)", "GET list with 4 filters", "GET one"],
        "us_per_request_detection_off": round(per["off"], 2),
        "us_per_request_detection_on": round(per["on"], 2),
        "us_per_request_without_edge": round(per["bare"], 2),
        "overhead_us_per_request": round(per["on"] - per["off"], 2),
        "ratio_on_to_off": round(per["on"] / per["off"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args(argv)
    print(json.dumps(edge_overhead(args.count), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
