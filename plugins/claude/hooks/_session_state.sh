# Sourced by session_start.sh and session_end.sh: reads the hook input (JSON on stdin) and sets
# the paths of this Claude Code session's gateway state. Files live under
# $TOOLSCRIPT_HOME/claude (default ~/.toolscript/claude), mode 0700.

hook_input=$(cat 2>/dev/null || true)
session_id=$(printf '%s' "$hook_input" |
  sed -n 's/.*"session_id"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1)
session_id=$(printf '%s' "${session_id:-default}" | tr -c 'A-Za-z0-9_-' '_')

state_dir="${TOOLSCRIPT_HOME:-$HOME/.toolscript}/claude"
pid_file="$state_dir/$session_id.pid"   # the gateway's process id
env_state="$state_dir/$session_id.env"  # export lines for TOOLSCRIPT_GATEWAY_URL and _TOKEN
out_file="$state_dir/$session_id.out"   # the gateway's stdout (its URL line)
log_file="$state_dir/$session_id.log"   # the gateway's stderr (logs)

# True when $1 is a live toolscript gateway process (not a recycled pid).
is_gateway_pid() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
    ps -p "$1" -o args= 2>/dev/null | grep -q 'gateway'
}
