"""GovernedUserProxyAgent: the stock human-input agent, plus (like AutoGen 0.2's user proxy) an
optional ``code_executor`` that runs the conversation's code blocks under its own policy.
Approval prompts for ``requires_approval`` go through its ``input_func``."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Self

from autogen_agentchat.agents import UserProxyAgent
from autogen_agentchat.agents._user_proxy_agent import UserProxyAgentConfig
from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseAgentEvent, BaseChatMessage, TextMessage
from autogen_core import CancellationToken, ComponentModel
from autogen_core.code_executor import CodeBlock, CodeExecutor

from governed_agents._provenance import ConversationContext
from governed_agents.autogen._code_executor import GovernedCodeExecutor
from governed_agents.autogen._code_executor_agent import govern_executor
from governed_agents.autogen._loading import GovernedLoading
from governed_agents.autogen._state import (
    GovernanceState,
    GovernorReference,
    Turns,
    TurnsInState,
    loading_governor,
    provenance_metadata,
    resolve_governor,
)
from governed_agents.governor import Governor
from governed_agents.policy._decision import Decision

__all__ = ["GovernedUserProxyAgent", "GovernedUserProxyAgentConfig"]

_BLOCK = re.compile(r"```[ \t]*(python|py|python3|bash|sh|shell)[ \t]*\n([\s\S]*?)```", re.IGNORECASE)


class GovernedUserProxyAgentConfig(UserProxyAgentConfig, GovernorReference):
    """The stock configuration (``input_func`` is not serialised, as stock), the governor's reference
    and the governed code executor."""

    code_executor: ComponentModel | None = None


class GovernedUserProxyAgent(GovernedLoading, TurnsInState, UserProxyAgent):
    """Takes every argument of ``UserProxyAgent`` plus ``governor`` and ``code_executor``."""

    component_config_schema = GovernedUserProxyAgentConfig
    component_provider_override = "governed_agents.autogen.GovernedUserProxyAgent"

    def __init__(self, name: str, *, description: str = "A human user", input_func: Any = None,
                 governor: Governor | None = None, code_executor: CodeExecutor | None = None) -> None:
        super().__init__(name, description=description, input_func=input_func)
        self.governor = resolve_governor(governor)
        self._executor = govern_executor(code_executor, self.governor, name) if code_executor is not None else None
        if self._executor is not None:
            self._executor.approval_handler = self._ask_person
        self._governance = GovernanceState()
        self._turns = Turns()
        self._pending_code = ""

    async def _ask_person(self, decision: Decision) -> tuple[bool, str, str]:
        prompt = ("governed-agents: this code needs your approval:\n" + self._pending_code + "\n"
                  + "\n".join(f"- {r}" for r in decision.approval_reasons) + "\nApprove? [y/N] ")
        answer = (await self._get_input(prompt, None)).strip().lower()
        return answer in ("y", "yes"), self.name, "" if answer in ("y", "yes") else f"answered {answer!r}"

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        self._turns.seen += len(messages)
        if self._executor is not None:
            blocks, source, text = _code_blocks(messages, self.name)
            if blocks:
                self._pending_code = "\n\n".join(f"```{b.language}\n{b.code}\n```" for b in blocks)
                state = self._governance
                turn = self._turns.now(state)
                context = ConversationContext(group_chat=state.group, message_from_suggester=text, turn_number=turn)
                try:
                    gate, result = await self._executor.gate_and_run(blocks, cancellation_token, suggester=source,
                                                                     context=context)
                except Exception as exc:  # never raise into AutoGen: that ends the whole group chat
                    reply = TextMessage(content=f"governed-agents: denied, the gate failed closed ({exc})",
                                        source=self.name, metadata={"governed.executor": self.name,
                                                                    "governed.suggester": source or "",
                                                                    "governed.approved": "false",
                                                                    "governed.receipt_id": "",
                                                                    "governed.turn": str(turn)})
                else:
                    reply = TextMessage(content=result.output or f"(exit code {result.exit_code}, no output)",
                                        source=self.name,
                                        metadata=provenance_metadata(gate, turn))
                self._turns.seen += 1
                yield Response(chat_message=reply)
                return
        async for item in super().on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                self._turns.seen += 1
            yield item

    async def on_reset(self, cancellation_token: CancellationToken | None = None) -> None:
        await super().on_reset(cancellation_token)
        self._turns = Turns()

    def _to_config(self) -> GovernedUserProxyAgentConfig:
        return GovernedUserProxyAgentConfig(
            **super()._to_config().model_dump(), **GovernorReference.of(self.governor),
            code_executor=self._executor.dump_component() if self._executor is not None else None)

    @classmethod
    def _from_config(cls, config: UserProxyAgentConfig) -> Self:
        if not isinstance(config, GovernedUserProxyAgentConfig):
            config = GovernedUserProxyAgentConfig(**config.model_dump())
        governor = config.governor()
        token = loading_governor.set(governor)
        try:
            executor = GovernedCodeExecutor.load_component(config.code_executor) if config.code_executor else None
        finally:
            loading_governor.reset(token)
        return cls(config.name, description=config.description, governor=governor, code_executor=executor)


def _code_blocks(messages: Sequence[BaseChatMessage], own: str) -> tuple[list[CodeBlock], str | None, str | None]:
    for message in reversed(messages):
        if message.source == own or not isinstance(message, TextMessage):
            continue
        blocks = [CodeBlock(code=code, language=lang.lower()) for lang, code in _BLOCK.findall(message.content)]
        if blocks:
            return blocks, message.source, message.content
    return [], None, None
