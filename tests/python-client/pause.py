"""(c) Pause while a long command runs, then run again to finish."""
import threading
import time

from client_common import conversation, kinds, report

conv = conversation()
conv.send_message("Run the slow job")
runner = threading.Thread(target=conv.run)
runner.start()
# Wait until the slow command's action is visible, then pause.
deadline = time.time() + 20
while time.time() < deadline and "ActionEvent" not in kinds(conv):
    time.sleep(0.1)
conv.pause()
runner.join(timeout=30)
paused = conv.state.execution_status.value
observations_when_paused = kinds(conv).count("ObservationEvent")
conv.run()
report(
    paused=paused,
    observations_when_paused=observations_when_paused,
    status=conv.state.execution_status.value,
    kinds=kinds(conv),
)
conv.close()
