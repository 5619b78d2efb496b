"""The README's first snippet, run as written (the OpenAI client swapped for a replay)."""

from __future__ import annotations

import ast
import re
import textwrap
import warnings

from tests.autogen.conftest import ROOT, SEED, replay


def readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Swap the class names", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


async def test_the_quick_start_prints_the_executors_receipt_metadata_and_no_stock_warning(tmp_path, capsys):
    code = readme_snippet()
    code = code.replace("from autogen_ext.models.openai import OpenAIChatCompletionClient\n", "")
    code = re.sub(r"model = OpenAIChatCompletionClient\(.*\n", "model = MODEL\n", code)
    code = (code.replace('"policies/seed.policy"', repr(str(SEED)))
                .replace('"receipts.db"', repr(str(tmp_path / "receipts.db")))
                .replace('work_dir="work"', f"work_dir={str(tmp_path / 'work')!r}"))
    body = "async def main():\n" + textwrap.indent(code, "    ")
    namespace = {"MODEL": replay(*["```python\nprint(6 * 7)\n```"] * 3)}
    exec(compile(ast.parse(body), "README.md", "exec"), namespace)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await namespace["main"]()

    printed = ast.literal_eval(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["governed.executor"] == "user_proxy" and printed["governed.suggester"] == "agent_analysis"
    assert printed["governed.approved"] == "true" and printed["governed.receipt_id"]
    assert not [w for w in caught if "may execute code on the local machine" in str(w.message)]
