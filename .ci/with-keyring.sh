#!/bin/bash
# Runs a command with an unlocked GNOME Keyring (the Secret Service) in the current D-Bus
# session. Use inside `dbus-run-session -- keyctl session - .ci/with-keyring.sh CMD…` with HOME
# pointing at a scratch folder: the daemon creates $HOME/.local/share/keyrings/login.keyring.
set -e
mkdir -p "${XDG_RUNTIME_DIR:=$HOME/.run}" && chmod 700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
eval "$(printf '%s' "${KEYRING_PW:-ci}" | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
exec "$@"
