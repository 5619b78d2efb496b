"""Whether libcst's native parser could recurse deep enough to overflow the C stack on a text.

libcst's parser recurses once per level of nesting and, past its stack, takes the process with it
(SIGSEGV): at about 1,250 nested brackets, 8,000 unary operators or 8,400 ``elif`` branches.
CPython's parser refuses all of these cleanly, with a reason, so risky text is parsed by CPython
first. Ordinary text is not: one scan over the tokens that delimit statements bounds the nesting,
at a fraction of a parse.

The bound: libcst's tokenizer refuses more than 100 levels of indentation before anything is
parsed, so deep recursion needs either a long ``elif`` chain or a long logical line (every level of
nesting inside one statement takes at least one token, and a token at least one character). The
scan finds the logical lines as the tokenizer does: a newline ends one only outside brackets,
strings and continuations; a comment or a plain string literal counts as one character (its text
nests nothing). An f-string counts whole, and the scan gives up (the text is risky) on one whose
end it cannot be sure of (a quote, backslash or comment inside a replacement field: PEP 701 nests
those), as on a string left open, a stray closing bracket or anything else it does not follow.
"""

from __future__ import annotations

import re

__all__ = ["may_overflow"]

# Far below the crash points above (brackets, at a character each, are the cheapest nesting):
# a text under all three is parsed by libcst alone.
_LONGEST_LINE = 800  # characters of one logical line, plain strings and comments as one
_BRACKETS = 200  # nested brackets: also CPython's own limit ("too many nested parentheses")
_ELIFS = 1000

_TOKENS = re.compile(
    r"""(?P<comment>\#[^\r\n]*)
      | (?P<prefix>(?<!\w)[A-Za-z]{1,3})?(?P<quote>'''|\"\"\"|'|")
      | (?P<open>[(\[{])
      | (?P<close>[)\]}])
      | (?P<continued>\\\r?\n)
      | (?P<newline>\n)""",
    re.VERBOSE,
)
# The rest of a string after its opening quote, as Python's tokenizer ends it: a one-line string
# may not hold a bare line break, a triple-quoted one may.
_ENDS = {
    "'": re.compile(r"(?:[^'\\\r\n]|\\(?:\r\n|[\s\S]))*'"),
    '"': re.compile(r'(?:[^"\\\r\n]|\\(?:\r\n|[\s\S]))*"'),
    "'''": re.compile(r"(?:[^\\]|\\[\s\S])*?'''"),
    '"""': re.compile(r'(?:[^\\]|\\[\s\S])*?"""'),
}
_FIELD_PARTS = re.compile(r"\{\{|\}\}|[{}'\"\\#\r\n]")

# A run of simple lines, skipped in one C call (most code is such lines; the scan below costs a
# Python step per token): lines that start at depth 0, shorter than the longest line allowed, whose
# brackets close on the line (three levels deep at most), whose strings are one-line literals with no
# prefix, no backslash and no third quote, and which may end in a comment (up to a carriage return,
# as the scan reads one). Over such a line the scan
# below would change nothing but where the current line starts, so skipping it gives the same answer;
# anything else on a line (a backslash, a prefixed or triple-quoted string, a bracket left open) makes
# the run stop before that line, and the scan reads it token by token. Possessive repeats (``*+``):
# no backtracking. Plain characters are taken a run at a time (one at a time, each a step of the
# repeat around the alternatives, was most of the time of the match).
_PLAIN = r"[^()\[\]{}'\"#\\\n]++"
_STRING = r"""(?<![A-Za-z])(?:"(?!"")[^"\\\r\n]*"|'(?!'')[^'\\\r\n]*')"""


def _nested(inner: str) -> str:
    return rf"\((?:{inner})*+\)|\[(?:{inner})*+\]|\{{(?:{inner})*+\}}"


_LEVEL0 = f"{_PLAIN}|{_STRING}"
_LEVEL1 = f"{_LEVEL0}|{_nested(_LEVEL0)}"
_LEVEL2 = f"{_LEVEL0}|{_nested(_LEVEL1)}"
_LEVEL3 = f"{_LEVEL0}|{_nested(_LEVEL2)}"
_SIMPLE_LINES = re.compile(rf"(?:(?=[^\n]{{0,{_LONGEST_LINE - 1}}}\n)(?:{_LEVEL3})*+(?:#[^\r\n]*)?\r?\n)*+")


def _past_simple_lines(code: str, at: int) -> int:
    """Where the run of simple lines from ``at`` (a line's start, outside brackets) ends."""
    run = _SIMPLE_LINES.match(code, at)
    return run.end() if run is not None else at  # the run may be empty: it always matches


def may_overflow(code: str) -> bool:
    """True unless the text is sure to nest too little to overflow libcst's parser."""
    if len(code) < _LONGEST_LINE:  # no line can be long enough; brackets are counted outright
        return code.count("(") + code.count("[") + code.count("{") >= _BRACKETS
    if code.count("elif") >= _ELIFS:
        return True
    search = _TOKENS.search
    depth = 0
    start = 0  # where the current logical line starts
    saved = 0  # characters of the current line in comments and plain strings, less one each
    at = start = _past_simple_lines(code, 0)
    while True:
        token = search(code, at)
        if token is None:
            return len(code) - start - saved >= _LONGEST_LINE
        kind = token.lastgroup
        at = token.end()
        if kind == "newline":
            if depth == 0:
                if token.start() - start - saved >= _LONGEST_LINE:
                    return True
                saved = 0
                at = start = _past_simple_lines(code, at)
        elif kind == "open":
            depth += 1
            if depth >= _BRACKETS:
                return True
        elif kind == "close":
            depth -= 1
            if depth < 0:
                return True
        elif kind == "comment":
            saved += at - token.start() - 1
        elif kind == "quote":
            quote = token.group("quote")
            end = _ENDS[quote].match(code, at)
            if end is None:
                return True  # a string left open
            prefix = (token.group("prefix") or "").lower()
            if "f" in prefix or "t" in prefix:
                if not _plain_fields(code, at, end.end() - len(quote)):
                    return True
            else:
                saved += end.end() - token.start() - 1
            at = end.end()
    # (``continued``: a backslash-newline joins two lines into one logical line)


def _plain_fields(code: str, start: int, stop: int) -> bool:
    """True when an f-string's body (``code[start:stop]``) ends where its first closing quote is,
    as it did before PEP 701: its replacement fields balance and hold no backslash, comment or line
    break, and no string but a one-line plain one in the other quotes."""
    depth = 0
    at = start
    search = _FIELD_PARTS.search
    while True:
        part = search(code, at, stop)
        if part is None:
            return depth == 0
        text = part.group()
        at = part.end()
        if depth == 0:
            if text == "{":
                depth = 1
            elif text == "}":
                return False  # a single '}' outside a field: Python refuses it
            continue  # '{{' and '}}' are braces as text; quotes, backslashes and '#' are text here
        if text == "{" or text == "{{":
            depth += len(text)
        elif text == "}" or text == "}}":
            depth -= len(text)
            if depth < 0:
                return False
        elif text == "'" or text == '"':
            if code[part.start() - 1: part.start()].isalpha():
                return False  # a prefixed string (an f-string inside a field)
            close = code.find(text, at, stop)
            if close < 0 or close == at or any(c in code[at:close] for c in "\\\r\n"):
                return False  # open, empty (the start of a triple quote) or not plain
            at = close + 1
        else:
            return False  # a backslash, a comment or a line break inside a field
