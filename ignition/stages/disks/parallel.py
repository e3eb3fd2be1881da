"""Creating filesystems concurrently, with a log that reads as if they ran in
config order.

mkfs spends most of its time waiting for the disk (zeroing, discarding,
writing inode tables), so filesystems on different devices are made at the
same time, a few at a time (Ignition starts one per CPU). Two jobs are ordered,
in config order, when their devices overlap: the same node, or one below the
other (a partition and its disk, an array or dm device and its members).
Anything built earlier in the stage (partitions, RAID, LUKS) is finished
before the first job starts.

The journal stays deterministic: op numbers are taken in config order, and
each job's lines (op started, the commands, op finished or failed) are held
back and written as one block, in config order, as soon as that job and every
one before it are done. Errors are reported in config order too.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from ignition.errors import StageError
from ignition.log import Logger, Sink
from ignition.record import record
from ignition.stages.disks import udev

MAX_WORKERS = 4

Entry = tuple[Sink, int, str, dict[str, str]]


def lineage(name: str) -> set[str]:
    """The block device `name` (e.g. loop0p1) and everything beneath it: the
    disk of a partition, the members of an md or device-mapper device."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        sys_dir = os.path.realpath(os.path.join(udev.SYS_BLOCK, cur))
        if os.path.exists(os.path.join(sys_dir, "partition")):
            todo.append(os.path.basename(os.path.dirname(sys_dir)))
        with contextlib.suppress(OSError):
            todo.extend(os.listdir(os.path.join(sys_dir, "slaves")))
    return seen


@record(kw_only=False, slots=False)
class Job:
    """One mkfs (or wipe) of the filesystems step, with the device it writes."""

    where: str  # the config path, e.g. $.storage.filesystems[2]
    description: str  # the op's text
    node: str  # kernel name of the device written, e.g. loop0p1
    run: Callable[[], None]


def related(a: Job, b: Job) -> bool:
    return a.node in lineage(b.node) or b.node in lineage(a.node)


class _Router:
    """A sink that holds back what a worker thread logs (into that thread's
    current buffer) and passes everything else through."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.local = threading.local()

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        buffer: list[Entry] | None = getattr(self.local, "buffer", None)
        if buffer is None:
            self.sink.emit(priority, message, fields)
        else:
            buffer.append((self.sink, priority, message, dict(fields)))


@contextlib.contextmanager
def _routed(loggers: Sequence[Logger]) -> Iterator[list[_Router]]:
    """Route every distinct sink of `loggers` (the stage's and the runner's)."""
    saved = [(lg, lg.sink) for lg in loggers]
    routers: dict[int, _Router] = {}
    for lg, sink in saved:
        if isinstance(sink, _Router):
            continue
        lg.sink = routers.setdefault(id(sink), _Router(sink))
    try:
        yield list(routers.values())
    finally:
        for lg, sink in saved:
            lg.sink = sink


def run_jobs(jobs: Sequence[Job], logger: Logger, loggers: Sequence[Logger] = (), limit: int | None = None) -> None:
    """Run every job, at most `limit` (default MAX_WORKERS) at a time; raise
    their errors (in config order) once all are done."""
    if not jobs:
        return
    workers = min(limit or MAX_WORKERS, len(jobs))
    if workers <= 1:
        for job in jobs:
            with logger.op(job.description):
                job.run()
        return
    logger.info(f"creating {len(jobs)} filesystems, up to {workers} at a time: "
                + ", ".join(j.where for j in jobs))
    waits = [[k for k in range(i) if related(jobs[i], jobs[k])] for i in range(len(jobs))]
    numbered = [threading.Event() for _ in jobs]
    buffers: list[list[Entry]] = [[] for _ in jobs]
    futures: list[Future[None]] = []

    with _routed([logger, *loggers]) as routers:
        def work(i: int) -> None:
            job = jobs[i]
            for r in routers:
                r.local.buffer = buffers[i]
            try:
                # Jobs are taken in submission order, so job i-1 already has a
                # worker and takes its op number without waiting for anything.
                if i:
                    numbered[i - 1].wait()
                try:
                    with logger.op(job.description):
                        numbered[i].set()
                        for k in waits[i]:
                            logger.info(f"waiting for {jobs[k].where}: its device overlaps this one")
                            if futures[k].exception() is not None:
                                raise StageError(f"{job.where}: not attempted, because {jobs[k].where}, whose "
                                                 "device overlaps this one, failed")
                        job.run()
                finally:
                    numbered[i].set()
            finally:
                for r in routers:
                    r.local.buffer = None

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mkfs") as pool:
            for i in range(len(jobs)):
                futures.append(pool.submit(work, i))
            errors: list[BaseException] = []
            for i, fut in enumerate(futures):
                err = fut.exception()
                for sink, priority, message, fields in buffers[i]:
                    sink.emit(priority, message, fields)
                if err is not None:
                    errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise StageError(f"{len(errors)} filesystems could not be created:\n"
                         + "\n".join(str(e) for e in errors)) from errors[0]
