"""Many inputs over worker processes forked after the imports; results come back in input order.

``ordered_map(fn, items, jobs)`` yields ``fn(item)`` for every item, in input order, exactly as the
serial loop would. With more than one job the parent first computes the first item of each kind
(so everything the work imports lazily is imported before any fork), then deals the other items by
weight to itself and ``jobs - 1`` forked children; a child sends its results back pickled over a
pipe. A result that does not come back — the child died or was killed, ``fn`` raised, the payload
did not arrive whole — is computed again in the parent when its turn comes: no item is skipped,
and a failure surfaces at that item, after every earlier result, as in the serial loop. What ``fn``
prints while it runs ahead of its turn is held and replayed at its turn.

Serial when there is one job, when ``os.fork`` is missing, or when the process already runs other
threads (forking a threaded process can copy a lock held by another thread).

The collector: a command may turn it off for its start-up (``gc.disable()``: the imports allocate a
great deal and free almost nothing, 7% of a one-file ``check``'s instructions went to collections);
``ordered_map`` turns it on again once the first item (of each kind) is done, which is when the
work's lazy imports have happened, after ``gc.freeze()`` has moved everything that exists then out
of its way (later collections, and forked children's pages, leave the imported world alone).
"""

from __future__ import annotations

import gc
import heapq
import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import redirect_stderr, redirect_stdout, suppress
from typing import Any, TypeVar

__all__ = ["MIN_SHARE", "ordered_map", "workers_for"]

T = TypeVar("T")
R = TypeVar("R")

MIN_SHARE = 16
"""Items per worker below which the default stays serial: a fork and a pipe cost about as much as
analysing a dozen small files."""

_Done = dict[int, tuple[str, str, Any]]


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers_for(count: int, jobs: int | None) -> int:
    """How many processes share ``count`` items: ``jobs`` if given (at most one per item), else one
    per usable CPU with at least ``MIN_SHARE`` items each."""
    if jobs is None:
        jobs = min(usable_cpus(), count // MIN_SHARE)
    return max(1, min(jobs, count))


def ordered_map(fn: Callable[[T], R], items: Sequence[T], jobs: int | None, *,
                weight: Callable[[T], int] = lambda item: 1,
                kind: Callable[[T], object] = lambda item: None) -> Iterator[R]:
    workers = workers_for(len(items), jobs)
    if workers <= 1 or not hasattr(os, "fork") or threading.active_count() > 1:
        for index, item in enumerate(items):
            result = fn(item)
            if index == 0:
                _collect_again()
            yield result
        _collect_again()
        return
    first: dict[object, int] = {}
    for index, item in enumerate(items):
        first.setdefault(kind(item), index)
    ahead = sorted(first.values())
    done = _compute(fn, items, ahead)  # the lazy imports happen here, before any fork
    _collect_again()
    rest = sorted(set(range(len(items))) - set(ahead))
    shares = _deal(rest, [weight(items[index]) for index in rest], workers)
    done.update(_fork_and_compute(fn, items, shares))
    for index, item in enumerate(items):
        got = done.pop(index, None)
        if got is None:
            yield fn(item)  # never came back: computed here, failing here if it fails
            continue
        out, err, result = got
        if out:
            sys.stdout.write(out)
        if err:
            sys.stderr.write(err)
        yield result


def _collect_again() -> None:
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _deal(indices: list[int], weights: list[int], workers: int) -> list[list[int]]:
    """Heaviest first, each to the least loaded share (so shares end at about the same time)."""
    shares: list[list[int]] = [[] for _ in range(workers)]
    load = [(0, share) for share in range(workers)]
    for weight, index in sorted(zip(weights, indices, strict=True), key=lambda pair: -pair[0]):
        total, share = heapq.heappop(load)
        shares[share].append(index)
        heapq.heappush(load, (total + max(weight, 1), share))
    return [sorted(share) for share in shares]


def _compute(fn: Callable[[T], R], items: Sequence[T], indices: list[int]) -> _Done:
    """``fn`` of each item, with what it printed; an item whose ``fn`` raised is left out."""
    done: _Done = {}
    for index in indices:
        out, err = io.StringIO(), io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                result = fn(items[index])
        except Exception:  # computed again at its turn, where it raises as the serial loop would
            continue
        done[index] = (out.getvalue(), err.getvalue(), result)
    return done


def _fork_and_compute(fn: Callable[[T], R], items: Sequence[T], shares: list[list[int]]) -> _Done:
    """Share 0 here, every other share in a forked child; what came back whole."""
    import pickle

    sys.stdout.flush()
    sys.stderr.flush()
    children: dict[int, tuple[int, list[int]]] = {}
    done: _Done = {}
    try:
        for share in shares[1:]:
            if not share:
                continue
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: compute, send, and leave without running the parent's code
                status = 1
                try:
                    os.close(read)
                    payload = pickle.dumps(_compute(fn, items, share), protocol=pickle.HIGHEST_PROTOCOL)
                    with os.fdopen(write, "wb") as pipe:
                        pipe.write(payload)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write)
            children[pid] = (read, share)
        done.update(_compute(fn, items, shares[0]))
        for pid, (read, share) in list(children.items()):
            done.update(_collect(pid, read, share))
            del children[pid]
    finally:
        for pid, (read, _share) in children.items():  # interrupted: end the children still running
            with suppress(OSError):
                os.close(read)
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with suppress(OSError):
                os.waitpid(pid, 0)
    return done


def _collect(pid: int, read: int, share: list[int]) -> _Done:
    import pickle

    with os.fdopen(read, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return {}
    try:
        got = pickle.loads(payload)
    except Exception:
        return {}
    if not isinstance(got, dict):
        return {}
    return {index: got[index] for index in share if index in got}
