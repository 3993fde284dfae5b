"""(e) An agent with an MCP server in its mcp_config: the server starts where the conversation
runs, and the agent calls its tool."""
import os

from client_common import conversation, kinds, report

conv = conversation(mcp_config={
    "everything": {"command": os.environ["MCP_EVERYTHING"], "args": ["stdio"]},
})
conv.send_message("Echo something through the MCP server.")
conv.run()
observations = [
    e.observation.model_dump(mode="json")
    for e in conv.state.events
    if type(e).__name__ == "ObservationEvent"
]
report(
    id=str(conv.id),
    status=conv.state.execution_status.value,
    kinds=kinds(conv),
    observations=observations,
)
conv.close()
