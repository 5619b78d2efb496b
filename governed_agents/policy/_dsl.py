"""The seed's policy language: a tokenizer and a recursive-descent parser.

    agent "NAME" { can "ACTION" with constraints { key: value, … } … } …

Constraints are separated by a comma or a line break (the seed writes one per line with no
commas), and so are the items of a list; both may be mixed, and a trailing comma is accepted.
Values are strings, numbers, quantities with a unit (``30_seconds``, ``1_gigabyte``), bare words
(``unlimited``, ``true``, ``false``) and lists. ``//`` and ``#`` start comments. The parser only
builds plain data with positions; the model (``_model``) checks keys and values.

Strings keep their backslashes as written, because the strings a policy holds are globs, command
patterns and paths (``"grep \\d+ *.log"``, ``"C:\\data"``), where JSON's escapes would turn a
regex into an error and ``\\t`` into a tab. The only escapes are ``\\"`` (a quote) and ``\\\\``
(one backslash, so a string can end in one). A control character inside a string is an error:
it is invisible in an editor and never part of a glob or a name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from governed_agents.policy._errors import PolicyError

__all__ = ["Located", "RawRule", "parse_dsl", "quote"]

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>//[^\n]*|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<quantity>\d+(?:\.\d+)?_[A-Za-z]+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\]:,])
  | (?P<bad>"[^\n]*|.)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int
    column: int
    after_newline: bool = False  # a line break (or a comment ending one) comes before it


@dataclass(frozen=True)
class Located:
    value: Any
    line: int
    column: int


@dataclass(frozen=True)
class RawRule:
    agent: str
    action: Located
    constraints: dict[str, Located]
    line: int
    column: int


def _tokens(text: str, filename: str) -> tuple[list[Token], PolicyError | None]:
    """The tokens, and the error that stopped the tokenizer (the tokens are those before it)."""
    out: list[Token] = []
    line, line_start, newline = 1, 0, False
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup or "bad", match.group()
        column = match.start() - line_start + 1
        if kind == "bad":
            what = f"unexpected character {value!r}"
            if value.startswith('"'):
                what = "an unterminated string (a string ends on the line it starts"
                end = text.find("\n", match.start())
                escaped_quote = '\\"' in text[line_start:end if end >= 0 else len(text)]
                what += '; \\" is a quote inside a string: write a final backslash as \\\\)' if escaped_quote else ")"
            return out, PolicyError(what, filename=filename, line=line, column=column)
        if kind not in ("ws", "comment"):
            out.append(Token(kind, value, line, column, newline))
            newline = False
        newlines = value.count("\n")
        if newlines:
            newline = True
            line += newlines
            line_start = match.start() + value.rindex("\n") + 1
    out.append(Token("eof", "", line, len(text) - line_start + 1, True))
    return out, None


class _Parser:
    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self.tokens, error = _tokens(text, filename)
        first = self.tokens[0] if self.tokens else None
        if first is not None and first.kind != "eof" and not (first.kind == "word" and first.text == "agent"):
            # not a policy at all (Python code, a JSON file named .policy): say so before any detail
            raise PolicyError(f"a policy starts with agent \"NAME\" {{ can \"code_execution\" … }}, "
                              f"found {first.text!r}; is this a policy file?", filename=filename,
                              line=first.line, column=first.column)
        if error is not None:
            raise error
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> None:
        self.i += 1

    def fail(self, expected: str, token: Token | None = None) -> PolicyError:
        token = token or self.peek()
        found = "end of file" if token.kind == "eof" else repr(token.text)
        return PolicyError(f"expected {expected}, found {found}", filename=self.filename,
                           line=token.line, column=token.column)

    def take(self, kind: str, text: str | None = None, expected: str | None = None) -> Token:
        token = self.peek()
        if token.kind != kind or (text is not None and token.text != text):
            raise self.fail(expected or (repr(text) if text else kind))
        self.advance()
        return token

    def string(self, expected: str) -> Token:
        token = self.take("string", expected=expected)
        return Token("string", _unquote(token, self.filename), token.line, token.column)

    def file(self) -> list[RawRule]:
        rules: list[RawRule] = []
        while self.peek().kind != "eof":
            rules.extend(self.agent())
        return rules

    def agent(self) -> list[RawRule]:
        self.take("word", "agent", expected="'agent'")
        name = self.string("an agent name in double quotes")
        self.take("punct", "{")
        rules = []
        while not (self.peek().kind == "punct" and self.peek().text == "}"):
            rules.append(self.can(name.text))
        self.take("punct", "}", expected="'}' or 'can'")
        if not rules:
            raise PolicyError(f'agent "{name.text}" grants nothing: add a can "…" rule', filename=self.filename,
                              line=name.line, column=name.column)
        return rules

    def can(self, agent: str) -> RawRule:
        start = self.take("word", "can", expected="'can' or '}'")
        action = self.string('an action in double quotes, such as "code_execution"')
        constraints: dict[str, Located] = {}
        if self.peek().kind == "word" and self.peek().text == "with":
            self.advance()
            word = self.take("word", expected="'constraints' or 'constraint'")
            if word.text not in ("constraints", "constraint"):
                raise self.fail("'constraints' or 'constraint'", word)
            constraints = self.block()
        return RawRule(agent, Located(action.text, action.line, action.column), constraints, start.line,
                       start.column)

    def block(self) -> dict[str, Located]:
        self.take("punct", "{")
        entries: dict[str, Located] = {}
        while not (self.peek().kind == "punct" and self.peek().text == "}"):
            key = self.take("word", expected="a constraint name or '}'")
            if key.text in entries:
                raise PolicyError(f"constraint {key.text!r} is given twice", filename=self.filename,
                                  line=key.line, column=key.column)
            self.take("punct", ":", expected="':'")
            entries[key.text] = Located(self.value(), key.line, key.column)
            self.separator("}", "',', a line break or '}'")
        self.take("punct", "}")
        return entries

    def separator(self, closing: str, expected: str) -> None:
        """After an entry: a comma, a line break or the closing bracket must follow."""
        token = self.peek()
        if token.kind == "punct" and token.text == ",":
            self.advance()
        elif not (token.after_newline or (token.kind == "punct" and token.text == closing)):
            raise self.fail(expected)

    def value(self) -> Any:
        token = self.peek()
        if token.kind == "string":
            return self.string("a string")
        if token.kind == "number":
            self.advance()
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "quantity":
            self.advance()
            return token.text
        if token.kind == "word":
            self.advance()
            return {"true": True, "false": False}.get(token.text, token.text)
        if token.kind == "punct" and token.text == "[":
            self.advance()
            items = []
            while not (self.peek().kind == "punct" and self.peek().text == "]"):
                if self.peek().kind == "eof" or (self.peek().kind == "punct" and self.peek().text in "}:"):
                    raise self.fail(f"']' to close the list opened at line {token.line}, column {token.column}")
                items.append(self.value())
                self.separator("]", "',', a line break or ']'")
            self.advance()
            return items
        raise self.fail("a value (string, number, 30_seconds, unlimited, true/false or a [list])")


def _unquote(token: Token, filename: str) -> str:
    """A string token's value: ``\\"`` and ``\\\\`` are escapes, every other backslash is kept."""
    body, out, i = token.text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
            char = body[i + 1]
            i += 1
        elif unicodedata.category(char) == "Cc":
            raise PolicyError(f"control character U+{ord(char):04X} {_CONTROL_NAMES.get(char, '')}in a string; "
                              "a string holds no control characters", filename=filename, line=token.line,
                              column=token.column + 1 + i)
        out.append(char)
        i += 1
    return "".join(out)


_CONTROL_NAMES = {"\t": "(tab) ", "\r": "(carriage return) ", "\x00": "(NUL) "}


def quote(value: str) -> str:
    """``value`` as a DSL string that reads back as ``value``. A lone backslash before an ordinary
    character is written as it is (``"grep \\d+"``); a run of backslashes, or one before a quote
    or at the end, is doubled, since ``\\\\`` reads as one."""
    out, i = [], 0
    while i < len(value):
        char = value[i]
        if char == '"':
            out.append('\\"')
            i += 1
        elif char == "\\":
            run = len(value) - i - len(value[i:].lstrip("\\"))
            after = value[i + run: i + run + 1]
            out.append("\\" if run == 1 and after not in ('"', "") else "\\" * (2 * run))
            i += run
        else:
            out.append(char)
            i += 1
    return '"' + "".join(out) + '"'


def _plain(value: Any) -> Any:
    if isinstance(value, Token):
        return value.text
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_dsl(text: str, filename: str = "<string>") -> list[RawRule]:
    rules = _Parser(text, filename).file()
    return [
        RawRule(r.agent, r.action, {k: Located(_plain(v.value), v.line, v.column) for k, v in r.constraints.items()},
                r.line, r.column)
        for r in rules
    ]
