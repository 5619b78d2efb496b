"""One input's analysis started early, in a forked process, while a cold command imports the rest.

A cold ``governed-agents run`` spends most of its time importing, and two halves of that are
independent: the analyser (libcst builds ~260 node dataclasses as it loads) and
everything that judges and runs (policy, decision and receipt models, the runtime). ``prefetch``
forks once the IR's models are loaded; the child imports the analyser, analyses the text and
writes its SovereignIR as JSON to a pipe, on the other core, while this process loads the rest.
``analyze`` with the same arguments then takes that IR (``take``) instead of analysing.

It changes where the analysis runs, never what it says: the child runs the same ``analyze`` on the
same arguments, and what it sends is validated into a SovereignIR here. A child that fails, dies
or sends anything that does not validate costs only the wait: the text is analysed here, as it
would have been (an IR that cannot be sent, a path with a lone surrogate say, is one of those).
Only ``run`` forks: a one-file ``check`` has too little left to load beside the analyser to gain.
A process that has libcst loaded already (the warm server's copies, a library
user) analyses in place: there is nothing to overlap.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import NamedTuple

from governed_agents.ir import SovereignIR

__all__ = ["prefetch", "take"]

# Longer inputs are analysed in place: the imports it overlaps are a small part of their analysis,
# and a child analysing for seconds could outlive a command that was given up by as long.
_LONGEST = 1 << 16


class _Pending(NamedTuple):
    code: str
    language: str
    work_dir: str | None
    pid: int
    fd: int  # the read end of the child's pipe


_pending: _Pending | None = None


def prefetch(code: str, language: str = "python", work_dir: str | None = None) -> None:
    """Start analysing ``code`` in a child: a no-op when the analyser is loaded, one is pending, or
    ``code`` is longer than ``_LONGEST`` characters."""
    global _pending
    if _pending is not None or "libcst" in sys.modules or len(code) > _LONGEST or not hasattr(os, "fork"):
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected; the tests check its IR
        _child(read, write, code, language, work_dir)
    os.close(write)
    _pending = _Pending(code, language, work_dir, pid, read)


def take(code: str, language: str, work_dir: str | None) -> SovereignIR | None:
    """The prefetched IR of exactly these arguments, or None (none pending for them, or it failed)."""
    global _pending
    pending = _pending
    if pending is None or (pending.code, pending.language, pending.work_dir) != (code, language, work_dir):
        return None
    _pending = None
    try:
        with open(pending.fd, "rb") as pipe:
            data = pipe.read()
    finally:
        with contextlib.suppress(ChildProcessError):  # reaped already by a waitpid(-1) elsewhere
            os.waitpid(pending.pid, 0)
    try:
        return SovereignIR.model_validate_json(data)  # a child cut short sends JSON that does not close
    except ValueError:
        return None


def _child(read: int, write: int, code: str, language: str, work_dir: str | None) -> None:
    """Analyse and send, then exit without running the parent's exit handlers or flushing its buffers.
    A parent that has stopped early (a policy error, a kill) is noticed at the write (EPIPE): for the
    inputs it is forked for, under a second after."""
    status = 1
    try:
        os.close(read)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it with the command
        from governed_agents.analysis._dispatch import analyze

        data = analyze(code, language, work_dir).model_dump_json().encode()
        with open(write, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        os._exit(status)
