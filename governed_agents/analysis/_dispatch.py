from __future__ import annotations

import hashlib
from typing import Any, Literal

from governed_agents.analysis._prefetch import take
from governed_agents.ir import SovereignIR, Unresolved

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "zsh", "console"})
_PYTHON = frozenset({"python", "py", "python3", "py3"})


def normalise_language(language: str | None) -> str:
    lang = (language or "python").strip().lower()
    if lang in _PYTHON:
        return "python"
    if lang in SHELL_LANGUAGES:
        return "bash" if lang != "sh" else "sh"
    return lang


_analyze_python: Any = None  # imported on the first Python input (a shell-only process never loads libcst)


def _python() -> Any:
    """``_python.analyze_python``, imported once: an import statement here ran on every call."""
    global _analyze_python
    if _analyze_python is None:
        from governed_agents.analysis._python import analyze_python

        _analyze_python = analyze_python
    return _analyze_python


def analyze(code: str, language: str = "python", work_dir: str | None = None) -> SovereignIR:
    """Analyse ``code`` into a SovereignIR. Never raises; failures become ``unresolved``."""
    prefetched = take(code, language, work_dir)  # analysed by a child started early (see _prefetch)
    if prefetched is not None:
        return prefetched
    lang = normalise_language(language)
    try:
        if lang == "python":
            return _python()(code, work_dir=work_dir)
        if lang in ("bash", "sh"):
            from governed_agents.analysis._shell import analyze_shell

            return analyze_shell(code, language=lang, work_dir=work_dir)
        reason = f"language {language!r} is not supported (python and shell are)"
        kind: Literal["unsupported_language", "internal_error"] = "unsupported_language"
    except Exception as exc:  # the gate fails closed: an internal error is unresolved, never clean
        reason = f"analyser error: {type(exc).__name__}: {exc}"
        kind = "internal_error"
    return SovereignIR(
        language=lang,
        code_signature="sha256:" + hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest(),
        unresolved=(Unresolved(reason=reason, kind=kind),),
    )
