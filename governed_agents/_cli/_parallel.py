"""Many inputs over worker processes forked after the imports; results come back in input order.

``ordered_map(fn, items, jobs)`` yields ``fn(item)`` for every item, in input order, exactly as the
serial loop would. With more than one job the parent first computes the first item of each kind
(so everything the work imports lazily is imported before any fork), then ``jobs`` forked
children take the other items chunk by chunk, heaviest first, each when it is free, and send their
results back pickled over a pipe; the parent only waits, then yields. A result that does not come
back — the child died or was killed, ``fn`` raised, the payload did not arrive whole — is computed
again in the parent when its turn comes: no item is skipped, and a failure (even one that ends the
process) surfaces at that item, after every earlier result was yielded, as in the serial loop.
What ``fn`` prints while it runs ahead of its turn is held and replayed at its turn.

Serial when there is one job, when ``os.fork`` is missing, or when the process already runs other
threads (forking a threaded process can copy a lock held by another thread).

The collector: a command may turn it off for its start-up (``gc.disable()``: the imports allocate a
great deal and free almost nothing: 5% of a one-file ``check``'s instructions went to collections);
``ordered_map`` turns it on again once the first item (of each kind) is done, which is when the
work's lazy imports have happened, after ``gc.freeze()`` has moved everything that exists then out
of its way (later collections, and forked children's pages, leave the imported world alone).
"""

from __future__ import annotations

import gc
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

_MAX_CHUNKS = 1024

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
    done.update(_share_out(fn, items, _chunks(rest, [weight(items[index]) for index in rest], workers), workers))
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


def _chunks(indices: list[int], weights: list[int], workers: int) -> list[list[int]]:
    """Heaviest items first, in chunks of about a sixteenth of a process's share: each process takes
    the next chunk when it is free, so one slowed down (by other load on the machine) takes fewer."""
    order = [index for _, index in sorted(zip(weights, indices, strict=True), key=lambda pair: -pair[0])]
    size = max(1, -(-len(order) // min(_MAX_CHUNKS, workers * 16)))
    return [order[start:start + size] for start in range(0, len(order), size)]


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


def _share_out(fn: Callable[[T], R], items: Sequence[T], chunks: list[list[int]], workers: int) -> _Done:
    """The chunks to ``workers`` forked children, each taking the next chunk's number from a pipe
    written in full (and closed) before the forks; what came back whole."""
    import pickle

    sys.stdout.flush()
    sys.stderr.flush()
    tokens, write = os.pipe()
    with os.fdopen(write, "wb") as pipe:  # at most _MAX_CHUNKS * 4 bytes: within any pipe's buffer
        pipe.write(b"".join(number.to_bytes(4, "little") for number in range(len(chunks))))
    children: dict[int, int] = {}
    try:
        for _ in range(workers):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: compute, send, and leave without running the parent's code
                status = 1
                try:
                    os.close(read)
                    payload = pickle.dumps(_take(fn, items, chunks, tokens), protocol=pickle.HIGHEST_PROTOCOL)
                    with os.fdopen(write, "wb") as pipe:
                        pipe.write(payload)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write)
            children[pid] = read
        os.close(tokens)
        tokens = -1
        done: _Done = {}
        for pid, read in list(children.items()):
            done.update(_collect(pid, read, len(items)))
            del children[pid]
    finally:
        if tokens >= 0:
            os.close(tokens)
        for pid, read in children.items():  # interrupted: end the children still running
            with suppress(OSError):
                os.close(read)
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with suppress(OSError):
                os.waitpid(pid, 0)
    return done


def _take(fn: Callable[[T], R], items: Sequence[T], chunks: list[list[int]], tokens: int) -> _Done:
    """Chunk after chunk, while the pipe has numbers (a short read ends it: what is left is computed
    again at its turn)."""
    done: _Done = {}
    while len(token := os.read(tokens, 4)) == 4:
        number = int.from_bytes(token, "little")
        if number < len(chunks):
            done.update(_compute(fn, items, chunks[number]))
    return done


def _collect(pid: int, read: int, count: int) -> _Done:
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
    return {index: value for index, value in got.items()
            if isinstance(index, int) and 0 <= index < count and isinstance(value, tuple) and len(value) == 3}
