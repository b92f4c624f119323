"""In-process CPU cost of one request through the gateway's paste pipeline, no server.

Run on demand (it is not a test), from the repository root::

    .venv/bin/python bench/pipeline_cost.py                       # JSON and Query, 1 datum
    .venv/bin/python bench/pipeline_cost.py --protocols json --requests 5000 --rounds 9
    .venv/bin/python bench/pipeline_cost.py --profile json         # cProfile of one round

It builds the pipeline as a worker of ``cfn-gateway serve`` does (``CONF`` with a temporary
data folder, ``cmd.serve.load_pipeline``, logging set up by ``common.logs.setup_logging``
but written to ``/dev/null``, ``gc.freeze`` and the worker's collection threshold), makes a
credential in the standalone store, and has botocore sign a 1-datum PutMetricData for each
protocol (``signed.py``; Query through a model copy that lists only Query,
``tests/protocol_models.py``).  The requests are re-signed every round, so they stay
within the allowed clock skew.

Each request gets a fresh environ (``wsgi.input`` a ``BytesIO``, the headers as granian's
WSGI interface names them) and runs the way the RSGI front runs it inline on a worker's
event loop: under a ``common.deferral.Deferral``, so its write goes to a group commit
(which the loop itself leads, in a callback after the batch: no other process holds the
file here), and the answer counts once the write has committed.  ``--batch N`` runs N
requests inline, then waits for all their commits (N concurrent requests on one worker).

Reported per request, the median over the rounds (their range in brackets), of each
round's median (``inline``, ``inline CPU``) or mean (the others):

- ``inline``: wall time of the pipeline call on the loop's thread (what a worker's event
  loop is busy with before it can take the next request);
- ``inline CPU``: the loop thread's CPU time (``time.thread_time``) in that call, less
  any wait for the GIL while another thread held it;
- ``process CPU``: ``time.process_time`` of the whole process per request, which adds the
  commits (on the loop, since 3c6c94e; before it, the committer thread's share) and the
  callbacks run once a commit is reported;
- ``wall``: elapsed time per request, commits included.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO))
# ``--tree DIR``: measure the cfn_gateway of another checkout (a baseline), side by side.
if "--tree" in sys.argv[:-1]:
    sys.path.insert(0, sys.argv[sys.argv.index("--tree") + 1])

from loadgen import HTTPRequest  # noqa: E402
from signed import SignedRequests  # noqa: E402

from cfn_gateway.auth.credential_store import CREDENTIALS_FILE, CredentialStore  # noqa: E402
from cfn_gateway.cmd.serve import YOUNG_COLLECTION_THRESHOLD, load_pipeline  # noqa: E402
from cfn_gateway.common import deferral, logs  # noqa: E402
from cfn_gateway.config import CONF, data_path  # noqa: E402
from cfn_gateway.config import __file__ as CONF_FILE  # noqa: E402
from tests.protocol_models import write_protocol_model  # noqa: E402

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ENDPOINT = "http://127.0.0.1:8080"
BASE_ENVIRON: dict[str, Any] = {
    "GATEWAY_INTERFACE": "CGI/1.1",
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "cfn-gateway",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8080",
    "REMOTE_ADDR": "127.0.0.1",
    "wsgi.errors": sys.stderr,
    "wsgi.input_terminated": True,
    "wsgi.multiprocess": True,
    "wsgi.multithread": True,
    "wsgi.run_once": False,
    "wsgi.url_scheme": "http",
    "wsgi.version": (1, 0),
}
COLUMNS = ("inline us", "inline CPU us", "process CPU us", "wall us")
SPECIAL_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def environ_template(request: HTTPRequest) -> dict[str, Any]:
    """The environ of ``request`` but its ``wsgi.input`` (copied for every call)."""
    environ = dict(BASE_ENVIRON)
    path, _, query = request.path.partition("?")
    environ["REQUEST_METHOD"] = request.method
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query
    for name, value in request.headers.items():
        lower = name.lower()
        key = SPECIAL_HEADERS.get(lower) or "HTTP_" + lower.upper().replace("-", "_")
        environ[key] = value
    environ.setdefault("CONTENT_LENGTH", str(len(request.body)))
    return environ


class LastStatus:
    """A ``start_response`` that keeps the last status line given to it."""

    status = ""

    def __call__(self, status: str, headers: list[tuple[str, str]],
                 exc_info: Any = None) -> None:
        self.status = status


def build(tmp: Path) -> tuple[WSGIApp, str, str]:
    """The pipeline over a fresh data folder, and a credential of its store."""
    CONF([], project="cfn-gateway", default_config_files=[])
    CONF.set_override("data_dir", str(tmp / "data"))
    logs.setup_logging()
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the whole run
    (tmp / "data").mkdir()
    credential = CredentialStore(data_path(CREDENTIALS_FILE)).create("bench")
    app = load_pipeline()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD)
    return app, credential.access_key, credential.secret_key


async def run_round(app: WSGIApp, template: dict[str, Any], body: bytes, requests: int,
                    batch: int) -> tuple[float, float, float, float]:
    """Median inline µs and inline thread CPU µs, process CPU µs and wall µs per request
    of one round."""
    loop = asyncio.get_running_loop()
    inline: list[int] = []
    inline_cpu: list[int] = []
    cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
    start_response = LastStatus()
    answer = b""
    done = 0
    while done < requests:
        pending = []
        for _ in range(min(batch, requests - done)):
            environ = dict(template)
            environ["wsgi.input"] = io.BytesIO(body)
            deferred = deferral.Deferral(loop)
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            with deferral.deferring(deferred):
                answer = b"".join(app(environ, start_response))
            inline_cpu.append(time.thread_time_ns() - started_cpu)
            inline.append(time.perf_counter_ns() - started)
            pending.append(deferred)
        for deferred in pending:
            if await deferred.settled() is not None:
                raise RuntimeError("a write failed")
        done += len(pending)
    if not start_response.status.startswith("200"):
        raise RuntimeError(f"answered {start_response.status}: {answer[:500]!r}")
    cpu = (time.process_time_ns() - cpu0) / requests / 1000
    wall = (time.perf_counter_ns() - wall0) / requests / 1000
    return (statistics.median(inline) / 1000, statistics.median(inline_cpu) / 1000, cpu,
            wall)


def signed_request(signers: dict[str, SignedRequests], protocol: str,
                   datums: int) -> tuple[dict[str, Any], bytes]:
    request = signers[protocol].put_metric_data(datums)
    return environ_template(request), request.body


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} [{min(values):.1f}-{max(values):.1f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--protocols", default="json,query")
    parser.add_argument("--requests", type=int, default=3000, help="per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--datums", type=int, default=1)
    parser.add_argument("--tree", help="the checkout whose cfn_gateway is measured "
                        "(default: this one)")
    parser.add_argument("--profile", metavar="PROTOCOL",
                        help="cProfile one round of PROTOCOL instead, top functions shown")
    args = parser.parse_args()
    protocols = args.protocols.split(",")

    with tempfile.TemporaryDirectory(prefix="cfn-pipeline-cost-") as tmp_name:
        tmp = Path(tmp_name)
        app, access, secret = build(tmp)
        signers = {
            protocol: SignedRequests(ENDPOINT, access, secret,
                                     data_path=write_protocol_model(tmp / "models", protocol),
                                     compress=False)
            for protocol in ("json", "query")
        }
        assert urlsplit(ENDPOINT).netloc == signers["json"].host

        async def measure() -> int:
            if args.profile:
                template, body = signed_request(signers, args.profile, args.datums)
                await run_round(app, template, body, args.requests, args.batch)
                profile = cProfile.Profile()
                profile.enable()
                await run_round(app, template, body, args.requests, args.batch)
                profile.disable()
                pstats.Stats(profile).sort_stats("tottime").print_stats(40)
                return 0
            results: dict[str, list[tuple[float, ...]]] = {p: [] for p in protocols}
            for protocol in protocols:  # warm-up
                template, body = signed_request(signers, protocol, args.datums)
                await run_round(app, template, body, min(args.requests, 500), args.batch)
            for _ in range(args.rounds):
                for protocol in protocols:
                    template, body = signed_request(signers, protocol, args.datums)
                    results[protocol].append(
                        await run_round(app, template, body, args.requests, args.batch))
            print(f"cfn_gateway from {Path(CONF_FILE).parent.parent}")
            print(f"{'protocol':8}" + "".join(f"{name:>24}" for name in COLUMNS))
            for protocol, rows in results.items():
                columns = [summary([row[i] for row in rows]) for i in range(len(COLUMNS))]
                print(f"{protocol:8}" + "".join(f"{column:>24}" for column in columns))
            return 0

        return asyncio.run(measure())


if __name__ == "__main__":
    sys.exit(main())
