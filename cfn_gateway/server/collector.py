"""CPython's cyclic garbage collector, set for a worker that serves requests.

Reference counting frees what a request makes (a 1000-datum PutMetricData: tens of
thousands of dicts, lists, tuples and datums) as soon as it is answered; almost none of it
forms cycles.  The cyclic collector still walks it: a collection of the youngest generation
starts whenever 700 more containers are alive than at the last one, and it walks every
young container, so a request that holds thousands of them at once (or several requests
waiting for their commit) pays for walking them many times over; each full collection
walks everything start-up built too (the botocore models, the compiled parsers and
renderers), which lives as long as the worker anyway.

``tune_for_requests``, called once the worker's pipeline is built:

- freezes what exists then (``gc.freeze``): no collection walks it again;
- lets the youngest generation grow to ``YOUNG_THRESHOLD`` containers before a collection;
  the older generations keep CPython's ratios.

Cycles are still collected: a cycle (an exception and its traceback, say) waits until that
many more containers are alive (10-20 MiB of them at most).  Measured in bench/README.md.
"""

from __future__ import annotations

import gc
import logging

LOG = logging.getLogger(__name__)

#: Containers alive beyond the last collection before the youngest generation is collected
#: (CPython's default: 700).  A 1000-datum request holds some 10,000 at once.
YOUNG_THRESHOLD = 100_000


def tune_for_requests() -> None:
    """Freeze what start-up built and raise the youngest generation's threshold."""
    gc.collect()  # what start-up left as garbage is not frozen with the rest
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    LOG.debug("garbage collector: %d objects frozen, thresholds %s", gc.get_freeze_count(),
              gc.get_threshold())
