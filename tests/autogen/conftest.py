from __future__ import annotations

from pathlib import Path

import pytest
from autogen_core.models import CreateResult, RequestUsage
from autogen_ext.models.replay import ReplayChatCompletionClient

from governed_agents.governor import Governor

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "policies" / "seed.policy"
MODEL_INFO = {"function_calling": True, "vision": False, "json_output": False, "family": "unknown",
              "structured_output": False}



def replay(*outputs: object) -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient(list(outputs), model_info=MODEL_INFO)  # type: ignore[arg-type]


def tool_call(name: str, arguments: str, call_id: str = "call_1") -> CreateResult:
    from autogen_core import FunctionCall

    return CreateResult(finish_reason="function_calls", content=[FunctionCall(id=call_id, name=name,
                        arguments=arguments)], usage=RequestUsage(prompt_tokens=0, completion_tokens=0), cached=False)


@pytest.fixture
def governor(tmp_path) -> Governor:
    return Governor(SEED, tmp_path / "receipts.db")
