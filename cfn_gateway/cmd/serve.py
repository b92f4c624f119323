"""``cfn-gateway serve``: the paste pipeline behind the gateway's own HTTP/1.1 server.

The serve process binds the port itself, one socket per worker over which the kernel
spreads new connections, and holds it against other gateways
(``cfn_gateway.server.listener``): a second gateway on a busy port exits instead of
sharing it.  It forks the workers (``cfn_gateway.server.workers``: replaced when they
die, renewed on SIGHUP, stopped on SIGTERM), which exit when the serve process is gone,
even after ``kill -9`` (``cfn_gateway.server.lifeline``).  Each worker builds its own
pipeline after the fork, so no SQLite connection or HTTP session crosses processes.

By default (``http_server = native``) each worker parses HTTP/1.1 on its own uvloop
(``cfn_gateway.server.http1``) with head and body deadlines, and runs the pipeline through
the front (``cfn_gateway.server.front``): in standalone mode inline on the loop, one
Python thread, a request's writes queued for a commit that concurrent PutMetricData
requests share (``common.group_commit``: led by the loop itself when no other process
holds the file), and answered once they have committed (``common.deferral``); measured
against eight threads per worker (bench/README.md), this serves 1.3-1.5 times the puts for
30 % less CPU each, because no request changes threads.  A long read holds its worker's
other requests meanwhile.  In OpenStack mode requests wait on Keystone and Gnocchi: eight
threads per worker.  Against granian, which hands each request's head, body and answer
between its Rust threads and the worker's loop, this serves 22 % more 1-datum JSON puts
for 15 % less CPU each (bench/README.md).

``http_server = granian`` serves as earlier versions did: granian (chosen then by
measurement, bench/wsgi_servers.py) with the RSGI front, or its WSGI interface when
``request_body_timeout = 0``.  Its workers' loops are uvloop's too.

serve also starts the engine (``cfn-gateway engine``: alarms in standalone mode, Auto
Scaling groups in both) as a child process tied to it like the workers, unless
``[alarms] engine_in_serve`` is off.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from paste.deploy import loadapp

from cfn_gateway.cmd import preflight
from cfn_gateway.cmd.engine import ENGINE_PARENT_ENV
from cfn_gateway.common.logs import setup_logging
from cfn_gateway.config import CONF
from cfn_gateway.server import collector, lifeline, worker_loop
from cfn_gateway.server.front import BufferingFront
from cfn_gateway.server.listener import ExclusiveGranian, Listeners, PortInUse, bind_listeners
from cfn_gateway.server.workers import Supervisor

LOG = logging.getLogger("cfn_gateway")
# How a worker that did not inherit CONF (a spawned, not forked, process) rebuilds it.
CONF_ENV = "CFN_GATEWAY_SERVE_CONF"
THREADS_BY_MODE = {"standalone": 1, "openstack": 8}
SERVE_OPTIONS = ("host", "port", "workers", "threads", "data_dir")
BACKLOG = 1024  # granian's default
#: Seconds a stopping worker of the native server has to answer what it began (the
#: supervisor kills it 10 s after asking).
STOP_GRACE_S = 8.0
_conf_loaded = False  # true in serve()'s process and in the workers it forks


def paste_config_path() -> str:
    return CONF.api_paste_config or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api-paste.ini"
    )


#: Allocations (less deallocations) of container objects between young collections.
YOUNG_COLLECTION_THRESHOLD = 10_000


def load_pipeline() -> Any:
    return loadapp("config:" + paste_config_path(), name="main")


def worker_app() -> Any:
    """The pipeline, built inside the worker process (CONF rebuilt there if need be)."""
    setup_logging()
    if not _conf_loaded and CONF_ENV in os.environ:
        saved = json.loads(os.environ[CONF_ENV])
        CONF([], project="cfn-gateway", default_config_files=saved["config_files"])
        for option, value in saved["overrides"].items():
            CONF.set_override(option, value)
    app = load_pipeline()
    # What the pipeline loaded lives as long as the worker (the botocore models alone are
    # about 90,000 objects): out of the collector's sight, a full collection no longer
    # walks it, which took a GetMetricStatistics of a day at 60 s from 12 ms to 25-70 ms
    # whenever one fell inside it.
    gc.freeze()
    # A request leaves no reference cycle behind (tests/unit/server/test_front_deferral.py),
    # so young collections only walk what live requests hold: a 1000-datum put holds
    # thousands of objects, and at the default of 700 it set off ten young collections
    # (1.2 ms of its 20); at 10,000, under one.
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD)
    return app


def worker_start() -> None:
    """What every worker does first: signals and its tie to the serve process."""
    # Until granian installs the worker's own handlers (after the factory returns), the
    # worker has the serve process's, inherited through fork, which only set flags on
    # serve's objects: a SIGTERM now (a stop right after start) would be lost, and the
    # worker killed after workers_kill_timeout.  Nothing is served yet: default action.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    serve_pid = json.loads(os.environ.get(CONF_ENV, "{}")).get("serve_pid")
    if serve_pid:
        lifeline.tie_to_parent(serve_pid)


def worker_front() -> BufferingFront:
    """The pipeline behind the front, built in each worker: the native server's, and
    granian's factory (RSGI)."""
    worker_start()
    front = BufferingFront(worker_app(), worker_threads(), CONF.request_body_timeout,
                           CONF.max_request_body_size)
    collector.tune_for_requests()
    return front


def worker_wsgi() -> Any:
    """granian's factory (WSGI, ``request_body_timeout = 0``): the bare pipeline."""
    worker_start()
    app = worker_app()
    collector.tune_for_requests()
    return app


def start_engine() -> subprocess.Popen[bytes] | None:
    """The engine beside the workers, tied to this process."""
    if not CONF.alarms.engine_in_serve:
        return None
    command = [sys.executable, "-m", "cfn_gateway.cmd.main", "engine",
               "--data-dir", os.path.abspath(CONF.data_dir)]
    for config_file in CONF.config_file or ():
        command += ["--config", config_file]
    env = dict(os.environ, **{ENGINE_PARENT_ENV: str(os.getpid())})
    return subprocess.Popen(command, env=env)


def stop_engine(engine: subprocess.Popen[bytes] | None) -> None:
    if engine is None or engine.poll() is not None:
        return
    engine.terminate()
    try:
        engine.wait(10)
    except subprocess.TimeoutExpired:
        engine.kill()
        engine.wait()


def worker_threads() -> int:
    return CONF.threads or THREADS_BY_MODE[CONF.mode]


def startup_message() -> str:
    data_dir = os.path.abspath(CONF.data_dir)
    return (
        f"cfn-gateway ({CONF.mode}) listening on http://{CONF.host}:{CONF.port}/ "
        f"with {CONF.workers} workers x {worker_threads()} threads: CloudWatch 2010-08-01 "
        f"(Query, JSON, RPC v2 CBOR) and Auto Scaling 2011-01-01 (Query); data in {data_dir}. "
        f"Health check: GET /healthcheck. Credentials: cfn-gateway credentials create "
        f"--project NAME --data-dir {data_dir} --json"
    )


def serve() -> int:
    global _conf_loaded
    _conf_loaded = True
    setup_logging()
    try:
        preflight.check()
    except preflight.StartupError as problem:
        LOG.error("cfn-gateway cannot start in %s mode: %s", CONF.mode, problem)
        return 2
    try:
        listeners = bind_listeners(CONF.host, CONF.port, BACKLOG, CONF.workers)
    except PortInUse as problem:
        LOG.error("cfn-gateway cannot start: %s", problem)
        return 1
    os.environ[CONF_ENV] = json.dumps({
        "config_files": list(CONF.config_file or []),
        "overrides": {option: CONF[option] for option in SERVE_OPTIONS},
        "serve_pid": os.getpid(),
    })
    LOG.info("%s", startup_message())
    engine = start_engine()
    try:
        if CONF.http_server == "native":
            return Supervisor(listeners.sockets, native_worker).run()
        return serve_granian(listeners)
    finally:
        stop_engine(engine)
        listeners.close()


def native_worker(sock: socket.socket, ready: Callable[[], None]) -> None:
    """A worker of the native server: the pipeline behind the front, HTTP/1.1 on the
    worker's own event loop."""
    worker_loop.serve_socket(worker_front(), sock, ready, backlog=BACKLOG,
                             head_timeout=CONF.request_head_timeout,
                             body_timeout=CONF.request_body_timeout,
                             max_body_size=CONF.max_request_body_size, grace=STOP_GRACE_S)


def serve_granian(listeners: Listeners) -> int:
    from granian.constants import Interfaces, Loops

    if CONF.request_body_timeout > 0:
        # RSGI: one Python thread runs the event loop; the front adds the app's threads.
        target, interface, blocking_threads = "worker_front", Interfaces.RSGI, 1
    else:
        target, interface, blocking_threads = "worker_wsgi", Interfaces.WSGI, worker_threads()
    ExclusiveGranian(
        f"cfn_gateway.cmd.serve:{target}",
        listeners=listeners,
        factory=True,
        interface=interface,
        address=CONF.host,
        port=CONF.port,
        workers=CONF.workers,
        backlog=BACKLOG,
        blocking_threads=blocking_threads,
        respawn_failed_workers=True,
        workers_kill_timeout=10,
        websockets=False,
        log_level="warning",
        log_access=False,
        loop=Loops.uvloop,
    ).serve()
    return 0
