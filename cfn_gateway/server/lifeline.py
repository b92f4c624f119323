"""Workers exit when their serve process is gone (even after ``kill -9``).

granian's workers are plain child processes: when the serve process was killed with
SIGKILL (no chance to stop them), they went on answering on the port, and a new server
shared it with them.  ``tie_to_parent`` is called in each worker as it starts:

- ``prctl(PR_SET_PDEATHSIG, SIGTERM)``: the kernel sends SIGTERM the moment the parent
  dies, and granian's worker stops gracefully (in-flight requests are answered).  The
  signal is tied to the *thread* that forked the worker; granian forks every worker
  (respawns included) from the serve process's main thread, which lives as long as the
  process.
- a watchdog thread that checks every ``interval`` seconds whether the parent changed
  (this also covers a parent that died before the ``prctl`` call, and systems without
  ``prctl``): it sends the same SIGTERM, and if the worker is still alive ``grace``
  seconds after the parent died, whatever it is waiting for, ends it with ``os._exit``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import threading
import time

LOG = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
#: Seconds between the watchdog's looks at its parent.
CHECK_INTERVAL_S = 0.5
#: Seconds a worker has to stop after its parent is gone, before ``os._exit``.
GRACE_S = 5.0
#: At most this long after its parent died, a worker has exited.
LONGEST_S = CHECK_INTERVAL_S + GRACE_S


def set_parent_death_signal(signum: int) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent thread exits."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def tie_to_parent(parent_pid: int, interval: float = CHECK_INTERVAL_S,
                  grace: float = GRACE_S) -> None:
    """Make this (worker) process exit soon after ``parent_pid`` is gone."""
    set_parent_death_signal(signal.SIGTERM)
    watchdog = threading.Thread(target=_watch, args=(parent_pid, interval, grace),
                                name="cfn-gateway-lifeline", daemon=True)
    watchdog.start()


def _watch(parent_pid: int, interval: float, grace: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval)
    LOG.warning("serve process %d is gone: worker %d stops", parent_pid, os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace)
    LOG.error("worker %d did not stop within %.0f s of its serve process: exiting",
              os.getpid(), grace)
    os._exit(1)
