"""Shared set-up for the compatibility scripts: OpenHands' own client, unmodified, pointed at
Berth's server (SERVER_URL, SESSION_API_KEY) and the scripted LLM (LLM_BASE_URL)."""
import json
import os
import sys

os.environ.setdefault("OPENHANDS_SUPPRESS_BANNER", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from pydantic import SecretStr  # noqa: E402

from openhands.sdk import LLM, Agent, Conversation, Tool  # noqa: E402
from openhands.sdk.workspace import RemoteWorkspace  # noqa: E402
import openhands.tools.file_editor  # noqa: E402,F401  (registers the tool)
import openhands.tools.terminal  # noqa: E402,F401


def workspace():
    return RemoteWorkspace(
        host=os.environ["SERVER_URL"],
        api_key=os.environ["SESSION_API_KEY"],
        working_dir=os.environ["WORKSPACE"],
    )


def conversation(conversation_id=None, mcp_config=None, **kwargs):
    llm = LLM(
        model="openai/scripted",
        base_url=os.environ["LLM_BASE_URL"],
        api_key=SecretStr("sk-scripted-key"),
        usage_id="agent",
        num_retries=0,
    )
    agent = Agent(
        llm=llm,
        tools=[Tool(name="terminal"), Tool(name="file_editor")],
        mcp_config=mcp_config or {},
    )
    return Conversation(
        agent=agent,
        workspace=workspace(),
        conversation_id=conversation_id,
        delete_on_close=False,
        visualizer=None,
        **kwargs,
    )


def kinds(conv):
    return [type(e).__name__ for e in conv.state.events]


def report(**data):
    print("RESULT " + json.dumps(data, default=str))
    sys.stdout.flush()
