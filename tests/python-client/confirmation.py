"""(b) Confirmation mode: the client sees waiting_for_confirmation, rejects, then accepts."""
import time

from openhands.sdk.security.confirmation_policy import AlwaysConfirm

from client_common import conversation, kinds, report


def wait_for_status_change(conv, old, seconds=10):
    """The client's state follows the server's socket: give the update time to arrive."""
    deadline = time.time() + seconds
    while conv.state.execution_status.value == old and time.time() < deadline:
        time.sleep(0.05)
    return conv.state.execution_status.value

conv = conversation()
conv.set_confirmation_policy(AlwaysConfirm())
conv.send_message("Create one.txt")
conv.run()
first_wait = conv.state.execution_status.value
conv.reject_pending_actions("Not that file")
after_reject = wait_for_status_change(conv, "waiting_for_confirmation")
conv.send_message("Create two.txt instead")
conv.run()
second_wait = conv.state.execution_status.value
conv.run()  # accept: run executes the waiting action
report(
    first_wait=first_wait,
    after_reject=after_reject,
    second_wait=second_wait,
    status=conv.state.execution_status.value,
    kinds=kinds(conv),
)
conv.close()
