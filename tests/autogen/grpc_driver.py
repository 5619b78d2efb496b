"""A driver worker for the distributed tests (run as ``python -m tests.autogen.grpc_driver HOST:PORT``).

A core-API "coder" agent on its own gRPC worker: its model (a ReplayChatCompletionClient) answers
turn after turn, and each answer goes to a governed executor on another worker, which replies with
what the gate decided and what ran; the reply goes back into the model's context. The plan (which
executor each turn goes to, what the model says) is JSON on stdin; the replies are JSON on stdout.
"""

from __future__ import annotations

import asyncio
import sys

from autogen_core import AgentId, MessageContext, RoutedAgent, message_handler
from autogen_core._base_agent import handles
from autogen_core.models import AssistantMessage, LLMMessage, UserMessage
from autogen_ext.models.replay import ReplayChatCompletionClient
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntime
from pydantic import BaseModel

from governed_agents import GovernedExecutionRequest, GovernedExecutionResult, add_governed_message_types


class Step(BaseModel):
    executor: str
    says: str
    claims_to_be: str | None = None  # the suggester the request names (the sender is always "coder")


class Conversation(BaseModel):
    conversation_id: str
    task: str
    steps: list[Step]
    first_turn: int = 1  # a later run of the driver continues the conversation


class Transcript(BaseModel):
    results: list[GovernedExecutionResult]


@handles(Transcript)
class Coder(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("writes code and sends it to governed executors on other workers")

    @message_handler
    async def on_conversation(self, message: Conversation, ctx: MessageContext) -> Transcript:
        model = ReplayChatCompletionClient([step.says for step in message.steps])
        history: list[LLMMessage] = [UserMessage(content=message.task, source="user")]
        results = []
        for turn, step in enumerate(message.steps, message.first_turn):
            said = await model.create(history)
            assert isinstance(said.content, str)
            history.append(AssistantMessage(content=said.content, source=self.id.type))
            request = GovernedExecutionRequest(conversation_id=message.conversation_id, turn=turn,
                                               message=said.content, suggester=step.claims_to_be)
            result = await self.send_message(request, AgentId(step.executor, message.conversation_id))
            assert isinstance(result, GovernedExecutionResult)
            history.append(UserMessage(content=result.output, source=step.executor))
            results.append(result)
        return Transcript(results=results)


async def main(host: str) -> None:
    conversation = Conversation.model_validate_json(sys.stdin.read())
    worker = GrpcWorkerAgentRuntime(host)
    await worker.start()
    add_governed_message_types(worker)
    await Coder.register(worker, "coder", Coder)
    try:
        transcript = await worker.send_message(conversation, AgentId("coder", conversation.conversation_id))
        print(transcript.model_dump_json(), flush=True)
    finally:
        await worker.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
