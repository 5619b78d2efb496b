"""Source positions, found lazily: only for nodes that produce an operation.

libcst's PositionProvider costs a second pass over the whole tree; instead a node's own text is
searched in the source at or after the previous operation's position (operations come in source
order). A name, a dotted name, ``callee(`` or ``value[`` is searched as written, never inside a
string literal or a comment (one regular-expression pass over the source finds those, when an
operation is first located) and never as the tail of a longer name or attribute (``myopen(``,
``x.os.system(``). Only a node with no such plain form has its code written out with libcst's
``code_for_node``. A bare name that stands more than once is anchored on its enclosing statement,
written out (a name is usually bound before it is used); dotted names and calls no longer are:
writing out each statement to tell repeated text apart was a third of the analysis of dense code.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import libcst as cst

__all__ = ["Locator", "dotted", "plain_text"]

_IMPORT_KEYWORD = re.compile(r"\bimport\b")
# String literals (triple-quoted or not, escapes) and comments, as Python 3.11's tokenizer reads
# them; the text is known to parse, so every literal is terminated. A literal's body is read in runs
# of plain characters, an escape or a lone quote between them (one step per character was most of
# the time of the search). A prefix (``rb''``, ``f""``: at most two letters) is not in the pattern:
# a pattern that may start with a letter is tried at every letter of the code; it is found by
# looking back from the quote (``_literals``).
_STRING_OR_COMMENT = re.compile(
    r"#[^\r\n]*"
    r"|'''[^'\\]*+(?:(?:\\.|'(?!''))[^'\\]*+)*+'''"
    r'|"""[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+"""'
    r"|'[^'\\\r\n]*+(?:\\.[^'\\\r\n]*+)*+'"
    r'|"[^"\\\r\n]*+(?:\\.[^"\\\r\n]*+)*+"',
    re.DOTALL)
_PREFIX_LETTERS = frozenset("rRbBuUfF")


def dotted(node: Any) -> str:
    node_type = type(node)  # not isinstance: on libcst's ABCs a miss is slow
    if node_type is cst.Name:
        return node.value
    if node_type is cst.Attribute:
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
    if node_type is cst.Subscript:
        if node.lpar or type(node.whitespace_after_value) is not cst.SimpleWhitespace \
                or node.whitespace_after_value.value:
            return None
        value = plain_text(node.value)
        return value + "[" if value else None
    return None  # an import alias is not here: `from socket import socket` names it twice


def _first_quote_or_hash(source: str) -> int:
    """Where the first quote or ``#`` stands (the length of the source when none does). A literal or
    comment holding an index starts with at most two prefix letters and then its quote or ``#``, so
    an index before this one is in none; the prefix letters themselves are never asked about (a
    text found there follows a letter, so it is the tail of a longer name)."""
    found = [i for i in (source.find("'"), source.find('"'), source.find("#")) if i >= 0]
    return min(found) if found else len(source)


def _literals(source: str) -> tuple[list[int], list[int]]:
    """Where each string literal (its prefix included) and each comment starts, and where it ends."""
    starts: list[int] = []
    ends: list[int] = []
    end = 0  # where the last one ended: a prefix starts after it
    for match in _STRING_OR_COMMENT.finditer(source):
        quote, end_here = match.span()
        start = quote
        if source[quote] != "#":
            while start > end and quote - start < 2 and source[start - 1] in _PREFIX_LETTERS:
                start -= 1
        starts.append(start)
        ends.append(end_here)
        end = end_here
    return starts, ends


class Locator:
    """(line, column), 1-based, of nodes of one module, asked for in source order."""

    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.source = source
        self.statement: Any = None  # the innermost simple statement, located only when it holds an op
        self._mark = (0, 1, 0)  # the last position found: its index, line and the index its line starts at
        self._cursor = 0
        self._positions: dict[int, tuple[int, int]] = {}
        self._last: tuple[str | None, int] = (None, -1)  # the text and index of the last node located
        self._literal_starts: list[int] | None = None  # string literals and comments: where each starts
        self._literal_ends: list[int] = []  # … and ends
        self._plain_until = -1  # no literal or comment holds an index before this one (-1: not yet known)

    def position(self, node: Any) -> tuple[int, int]:
        known = self._positions.get(id(node))
        if known is None:
            known = self._positions[id(node)] = self._locate(node)
        return known

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
        if index >= 0 and statement is not None and text.isidentifier() and self._search(text, index + 1) >= 0:
            # a bare name also stands where it is bound (``info = p.info`` before ``info['pid']``):
            # anchor on the enclosing statement, written out. Dotted names and calls are searched
            # without this; only names bound plainly are usually written before their use.
            anchor = self._find(statement)
            if anchor >= 0:
                self._cursor = anchor
                index = self._search(text, anchor)
        return index

    def _find(self, node: Any) -> int:
        try:
            text = self.module.code_for_node(node).strip()
        except Exception:
            return -1
        if not text:
            return -1
        index = self.source.find(text, self._cursor)
        return index if index >= 0 else self.source.find(text)

    def _in_literal(self, index: int) -> bool:
        """True when ``index`` falls inside a string literal or a comment (not at its first character:
        a node whose text is a string literal starts there)."""
        if self._literal_starts is None:
            if self._plain_until < 0:
                self._plain_until = _first_quote_or_hash(self.source)
            if index < self._plain_until:
                return False  # before any quote or '#': the literals need not be found at all (short snippets)
            self._literal_starts, self._literal_ends = _literals(self.source)
        k = bisect.bisect_right(self._literal_starts, index) - 1
        return k >= 0 and self._literal_starts[k] < index < self._literal_ends[k]

    def _search(self, text: str, start: int) -> int:
        """``text`` in the source from ``start``: code, not the inside of a string or a comment, and not
        the tail of a longer name or attribute (``myopen(``, ``x.os.system(``)."""
        source = self.source
        index = source.find(text, start)
        name_like = text[:1].isidentifier()
        while index >= 0:
            before = source[index - 1] if index > 0 else ""
            if not (name_like and (before.isalnum() or before == "_" or before == ".")) \
                    and not self._in_literal(index):
                return index
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
        return self._line_column(index)

    def _line_column(self, index: int) -> tuple[int, int]:
        """Counted on from the last position found (they come in source order): the newlines in
        between, not a table of every line's start."""
        source = self.source
        last, line, start = self._mark
        if index >= last:
            between = source.count("\n", last, index)
            if between:
                line += between
                start = source.rfind("\n", last, index) + 1
        else:
            line = source.count("\n", 0, index) + 1
            start = source.rfind("\n", 0, index) + 1
        self._mark = (index, line, start)
        return line, index - start + 1
