"""(d) phase 2: after the server restarted, attach by id and carry on."""
import os

from client_common import conversation, kinds, report

conv = conversation(conversation_id=os.environ["CONVERSATION_ID"])
before = kinds(conv)
status_before = conv.state.execution_status.value
conv.send_message("The server restarted; please finish.")
conv.run()
report(before=before, status_before=status_before, status=conv.state.execution_status.value, kinds=kinds(conv))
conv.close()
