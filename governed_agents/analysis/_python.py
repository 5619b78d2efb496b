"""Python code → SovereignIR in one libcst pass with light alias tracking.

Names are tracked flow-insensitively per function scope: ``import os as o; f = o.system; f("ls")``
resolves to ``os.system``. The pass itself is ``_walker.Walker``; this module parses, refuses what
Python itself would refuse, and builds the IR.

``code_signature`` is ``sha256:`` over the canonical form the walk produces as it goes: the syntax
tree's node types with their names, literals (strings by value) and operators, in source order —
no whitespace, no comments, no punctuation, no parentheses. So blank lines, spacing, indentation
width, comments, trailing commas and quote style (``'ls'`` or ``"ls"``) do not change it; renaming
a variable or changing a literal's value does. When the text does not parse,
the signature is over the raw text (and the IR is unresolved).
"""

from __future__ import annotations

import ast
import hashlib

import libcst as cst

from governed_agents.analysis._walker import Walker
from governed_agents.ir import SovereignIR, Unresolved

__all__ = ["analyze_python", "code_signature"]


def code_signature(code: str) -> str:
    return analyze_python(code).code_signature


def _syntax_error(code: str, fallback: cst.ParserSyntaxError) -> Unresolved:
    """Python's own message and position for text that does not parse (only on this error path)."""
    return _refused_by_python(code) or Unresolved(
        reason=f"syntax the analyser cannot read: {fallback.message}", kind="parse_error",
        line=fallback.raw_line, column=fallback.raw_column + 1)


def _raw(code: str) -> str:
    return "sha256:" + hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


# libcst's native parser overflows the C stack (the process dies) on nesting Python itself refuses
# (about 1,400 brackets, 4,500 subscripts, 10,000 unary operators); CPython's parser refuses it
# cleanly. Checked only where it could happen: 200+ opening brackets, or text long enough to chain.
_DEEP_ENOUGH_TO_CHECK = 200
_LONG_ENOUGH_TO_CHECK = 3000


def _refused_by_python(code: str) -> Unresolved | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        kind = "limit" if "too many nested" in (exc.msg or "") else "parse_error"
        return Unresolved(reason=f"Python syntax error: {exc.msg}", kind=kind, line=exc.lineno or 0,
                          column=exc.offset or 0)
    except (RecursionError, MemoryError):
        return Unresolved(reason="code nested too deeply for Python to compile", kind="limit")
    except ValueError as exc:
        return Unresolved(reason=f"Python cannot read this text: {exc}", kind="parse_error")
    return None


def analyze_python(code: str, work_dir: str | None = None) -> SovereignIR:
    if len(code) >= _LONG_ENOUGH_TO_CHECK or code.count("(") + code.count("[") + code.count("{") >= _DEEP_ENOUGH_TO_CHECK:
        refused = _refused_by_python(code)
        if refused is not None:
            return SovereignIR(language="python", code_signature=_raw(code), unresolved=(refused,))
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(_syntax_error(code, exc),))
    except (RecursionError, MemoryError, ValueError) as exc:
        problem = Unresolved(reason=f"code the analyser cannot read ({type(exc).__name__})",
                             kind="limit" if not isinstance(exc, ValueError) else "parse_error")
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(problem,))
    walker = Walker(module, code, str(work_dir) if work_dir is not None else None)
    try:
        walker.walk()
    except RecursionError:
        walker.unresolved.append(Unresolved(reason="expression nested too deeply to analyse", kind="limit"))
    signature = "sha256:" + hashlib.sha256("\x1f".join(walker.tokens).encode("utf-8", "surrogatepass")).hexdigest()
    return SovereignIR.model_construct(
        language="python",
        code_signature=signature,
        operations=tuple(walker.ops),
        unresolved=tuple(walker.unresolved),
    )
