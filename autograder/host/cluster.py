"""Runs on the host: the Dask cluster that grades a class, local or someone else's.

By default a ``LocalCluster`` on this machine, sized so that the kernels share the CPU
(workers x ``kernel_threads`` <= cores; each worker one submission at a time, with an equal
share of the RAM).  With ``SafeGrading.scheduler`` (``--scheduler tcp://HOST:8786``) an existing
cluster: ``dask scheduler`` and ``dask worker`` on other machines, or one made by dask-jobqueue,
dask-kubernetes or dask-gateway.  A task whose worker dies is given to another worker once
(``distributed.scheduler.allowed-failures``: 1); if that one dies too it is reported.  Each
worker holds one submission at a time (``worker-saturation``: 1.0), so a death costs only that one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from autograder.host.course import GradingError
from autograder.host.settings import SafeGrading

ALLOWED_FAILURES = 1  # a task is retried once on another worker when its worker dies
CONNECT_SECONDS = 30


def local_cluster_size(settings: SafeGrading) -> tuple[int, int]:
    """(workers, memory limit per worker in bytes) for a cluster on this machine."""
    import psutil

    workers = settings.worker_count
    return workers, int(psutil.virtual_memory().total // workers)


@contextmanager
def dask_client(settings: SafeGrading) -> Iterator:
    """A ``distributed.Client`` on the configured scheduler, or on a new LocalCluster (closed after)."""
    import dask
    from distributed import Client, LocalCluster

    if settings.scheduler:
        try:
            client = Client(settings.scheduler, timeout=CONNECT_SECONDS)
        except OSError as exc:
            raise GradingError(f"cannot reach the Dask scheduler at {settings.scheduler} ({exc}); start "
                               "it with `dask scheduler`, or leave out --scheduler to grade on this "
                               "machine") from exc
        with client:
            yield client
        return
    workers, memory = local_cluster_size(settings)
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                          # one task per worker at a time: the others wait at the scheduler, so a
                          # worker that dies takes only the submission it was grading with it
                          "distributed.scheduler.worker-saturation": 1.0}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               memory_limit=memory, host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        yield client


def worker_count(client) -> int:
    """Threads across the cluster's workers: submissions it grades at once."""
    return sum(info.get("nthreads", 1) for info in client.scheduler_info()["workers"].values())
