"""(d) phase 1: start a conversation whose command is still running when the server dies."""
import threading
import time

from client_common import conversation, report

conv = conversation()
conv.send_message("Start the long job")
threading.Thread(target=conv.run, daemon=True).start()
report(id=str(conv.id))
time.sleep(120)  # the harness kills the server, then this process
