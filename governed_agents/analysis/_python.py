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
import codecs
import hashlib
import io
import tokenize
import unicodedata

import libcst as cst

from governed_agents.analysis._build import construct
from governed_agents.analysis._depth import may_overflow
from governed_agents.analysis._parse import parse
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


# The encodings under which the text given is the text Python compiles from its UTF-8 bytes.
_SAME_TEXT_ENCODINGS = frozenset({"utf-8", "ascii", "iso8859-1"})


def _as_python_reads(code: str) -> Unresolved | None:
    """Refuse text that Python would compile as other text: the runtime writes the code out as
    UTF-8 and the interpreter decodes those bytes by the BOM and the coding cookie, as
    ``tokenize.detect_encoding`` finds them (``# coding: utf-7`` turns comments into code)."""
    second = code.find("\n", code.find("\n") + 1)
    if "coding" not in (code if second < 0 else code[:second]):
        return None  # no cookie: UTF-8, which is what the text was encoded as
    data = code.encode("utf-8", "surrogatepass")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        name = codecs.lookup(encoding).name
    except (SyntaxError, LookupError) as exc:
        return Unresolved(reason=f"the coding declaration is one Python refuses: {exc}", kind="parse_error")
    if name not in _SAME_TEXT_ENCODINGS and name != "utf-8-sig":
        return Unresolved(reason=f"source declares the encoding {encoding!r}: only UTF-8, ASCII and Latin-1 are "
                                 "read (Python would decode the code as other text)", kind="parse_error")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return Unresolved(reason=f"source is not valid {encoding} as its coding declaration says: {exc.reason}",
                          kind="parse_error")
    if text.lstrip("\ufeff") != code.lstrip("\ufeff"):
        return Unresolved(reason=f"under its coding declaration ({encoding}) Python reads this code as other "
                                 "text than the text given", kind="parse_error")
    return None


def _needs_nfkc(code: str) -> bool:
    """True when a name may read differently under NFKC (PEP 3131): some non-ASCII character is not
    its own normal form, or is a combining mark."""
    if code.isascii():
        return False
    return any(unicodedata.normalize("NFKC", ch) != ch or unicodedata.combining(ch)
               for ch in {c for c in code if ord(c) > 127})


class _Nfkc(cst.CSTTransformer):
    """Every name as Python reads it: ``ｏｐｅｎ`` is ``open``."""

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        value = unicodedata.normalize("NFKC", updated_node.value)
        return updated_node if value == updated_node.value else updated_node.with_changes(value=value)


def analyze_python(code: str, work_dir: str | None = None) -> SovereignIR:
    if "\x00" in code:  # libcst reads a NUL in a comment; Python refuses the whole file
        problem = Unresolved(reason="Python cannot read this text: source code cannot contain null bytes",
                             kind="parse_error", line=code.count("\n", 0, code.index("\x00")) + 1)
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(problem,))
    misread = _as_python_reads(code)
    if misread is not None:
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(misread,))
    if may_overflow(code):  # nesting that could kill libcst's parser: CPython's refuses it with a reason
        refused = _refused_by_python(code)
        if refused is not None:
            return SovereignIR(language="python", code_signature=_raw(code), unresolved=(refused,))
    try:
        module = parse(code)
    except cst.ParserSyntaxError as exc:
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(_syntax_error(code, exc),))
    except cst.CSTValidationError as exc:  # libcst builds a node Python would not (a name that is no identifier)
        problem = _refused_by_python(code) or Unresolved(reason=f"code the analyser cannot read: {exc}",
                                                         kind="parse_error")
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(problem,))
    except (RecursionError, MemoryError, ValueError) as exc:
        problem = Unresolved(reason=f"code the analyser cannot read ({type(exc).__name__})",
                             kind="limit" if not isinstance(exc, ValueError) else "parse_error")
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(problem,))
    if _needs_nfkc(code):
        try:
            module = module.visit(_Nfkc())
        except cst.CSTValidationError as exc:  # a name whose normal form is no identifier: Python refuses it
            problem = _refused_by_python(code) or Unresolved(reason=f"a name Python would not read: {exc}",
                                                             kind="parse_error")
            return SovereignIR(language="python", code_signature=_raw(code), unresolved=(problem,))
        code = module.code
    walker = Walker(module, code, str(work_dir) if work_dir is not None else None)
    try:
        walker.walk()
    except RecursionError:
        walker.unresolved.append(Unresolved(reason="expression nested too deeply to analyse", kind="limit"))
    signature = "sha256:" + hashlib.sha256("\x1f".join(walker.tokens).encode("utf-8", "surrogatepass")).hexdigest()
    return construct(SovereignIR, {"language": "python", "code_signature": signature, "operations": tuple(walker.ops),
                                   "unresolved": tuple(walker.unresolved)})
