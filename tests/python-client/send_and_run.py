"""(a) Send a message, run, wait for the finish; then use the workspace's command API."""
import os

from client_common import conversation, kinds, report, workspace

received = []
conv = conversation(callbacks=[lambda e: received.append(type(e).__name__)])
conv.send_message("Write hello to out.txt and show it.")
conv.run()
result = workspace().execute_command("cat out.txt && echo via-bash-api", cwd=os.environ["WORKSPACE"], timeout=30)
report(
    id=str(conv.id),
    status=conv.state.execution_status.value,
    kinds=kinds(conv),
    ids=[e.id for e in conv.state.events],
    received=received,
    bash_stdout=result.stdout,
    bash_exit=result.exit_code,
    final=conv.agent_final_response() if hasattr(conv, "agent_final_response") else None,
)
conv.close()
