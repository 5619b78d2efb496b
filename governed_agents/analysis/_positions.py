"""Source positions, found lazily: only for nodes that produce an operation.

libcst's PositionProvider costs a second pass over the whole tree; instead a node's own text is
searched in the source at or after the previous operation's position (operations come in source
order). A name or dotted name is searched as written; only when that fails is the node's code
written out. Text that stands more than once is anchored on the enclosing simple statement.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import libcst as cst

__all__ = ["Locator", "dotted", "plain_text"]

_IMPORT_KEYWORD = re.compile(r"\bimport\b")


def dotted(node: Any) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted(node.value)}.{node.attr.value}"
    return ""


def plain_text(node: Any) -> str | None:
    """How a name, a dotted name or ``callee(`` is written when written plainly
    (no parentheses, no spaces around dots); None for anything else."""
    node_type = type(node)
    if node_type is cst.Name:
        return str(node.value)
    if node_type is cst.Attribute:
        if node.lpar:
            return None
        base = plain_text(node.value)
        return f"{base}.{node.attr.value}" if base else None
    if node_type is cst.Call:
        if type(node.whitespace_after_func) is not cst.SimpleWhitespace or node.whitespace_after_func.value:
            return None
        callee = plain_text(node.func)
        return callee + "(" if callee else None
    return None  # an import alias is not here: `from socket import socket` names it twice


class Locator:
    """(line, column), 1-based, of nodes of one module, asked for in source order."""

    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.source = source
        self.statement: Any = None  # the innermost simple statement, located only when it holds an op
        self._line_starts: list[int] | None = None
        self._cursor = 0
        self._positions: dict[int, tuple[int, int]] = {}
        self._last: tuple[str | None, int] = (None, -1)  # the text and index of the last node located

    def position(self, node: Any) -> tuple[int, int]:
        known = self._positions.get(id(node))
        if known is None:
            known = self._positions[id(node)] = self._locate(node)
        return known

    def _find(self, node: Any) -> int:
        try:
            text = self.module.code_for_node(node).strip()
        except Exception:
            return -1
        if not text:
            return -1
        index = self.source.find(text, self._cursor)
        return index if index >= 0 else self.source.find(text)

    def _text(self, node: Any) -> str:
        """The text to look for: a call starts where its callee does, and ``callee(`` is far shorter
        to write out than the whole call (whose arguments may span lines)."""
        if type(node) is cst.Call and type(node.whitespace_after_func) is cst.SimpleWhitespace \
                and not node.whitespace_after_func.value:
            return self.module.code_for_node(node.func).strip() + "("
        return self.module.code_for_node(node).strip()

    def _alias_index(self, alias: cst.ImportAlias) -> int:
        """An imported name, searched after the next ``import`` keyword (``from socket import socket``).
        Statements come in order after the cursor; writing the statement out to find it costs more
        than the rest of the analysis of an import."""
        keyword = _IMPORT_KEYWORD.search(self.source, self._cursor)
        return self._search(dotted(alias.name), keyword.end()) if keyword is not None else -1

    def _after_same(self, text: str) -> str:
        """A second node written like the last one located (``open(`` twice in one ``with``) stands
        after it: an inner node starts at or after its outer one, a sibling after the first."""
        if self._last[0] == text:
            self._cursor = self._last[1] + 1
        return text

    def _index_of(self, text: str, statement: Any) -> int:
        index = self._search(text, self._cursor)
        if index < 0:
            index = self._search(text, 0)
        if index >= 0 and statement is not None and self._search(text, index + 1) >= 0:
            # the same text stands more than once: anchor on the enclosing statement first
            anchor = self._find(statement)
            if anchor >= 0:
                self._cursor = anchor
                index = self._search(text, anchor)
        return index

    def _search(self, text: str, start: int) -> int:
        """``text`` in the source from ``start``, not as the tail of a longer name (``myopen(``)."""
        source = self.source
        index = source.find(text, start)
        if text[:1].isidentifier():
            while index > 0 and (source[index - 1].isalnum() or source[index - 1] == "_"):
                index = source.find(text, index + 1)
        return index

    def _locate(self, node: Any) -> tuple[int, int]:
        statement, self.statement = self.statement, None
        index = -1
        text = plain_text(node)  # most operations sit on a dotted name: no need to write code out
        if text:
            index = self._index_of(self._after_same(text), statement)
        elif type(node) is cst.ImportAlias and statement is not None:
            index = self._alias_index(node)
        if index < 0:
            try:
                text = self._text(node)
            except Exception:
                return 0, 0
            index = self._index_of(self._after_same(text), statement) if text else -1
        if index < 0:
            return 0, 0
        self._cursor = index
        self._last = (text, index)
        if self._line_starts is None:
            starts = [0]
            at = self.source.find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = self.source.find("\n", at + 1)
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, index)
        return line, index - self._line_starts[line - 1] + 1
