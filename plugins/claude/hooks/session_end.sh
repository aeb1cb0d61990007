#!/usr/bin/env bash
# Claude Code SessionEnd hook: stops the gateway session_start.sh started for this session
# (SIGTERM, then SIGKILL after 5 s) and removes the session's state files.
set -uo pipefail

# shellcheck source=_session_state.sh
. "$(dirname "${BASH_SOURCE[0]}")/_session_state.sh"

pid=$(cat "$pid_file" 2>/dev/null || true)
if is_gateway_pid "$pid"; then
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
fi
rm -f "$pid_file" "$env_state" "$out_file" "$log_file"
exit 0
