#!/usr/bin/env bash
# Claude Code SessionStart hook: starts `toolscript gateway --port 0` in the background (once per
# session), waits for its URL line, and exports TOOLSCRIPT_GATEWAY_URL plus a per-session
# TOOLSCRIPT_GATEWAY_TOKEN to the session's Bash tool through $CLAUDE_ENV_FILE.
#
# Environment: TOOLSCRIPT_BIN (default `toolscript`; may be a command with arguments, e.g.
# `deno run -A /path/to/toolscript/main.ts`), TOOLSCRIPT_CONFIG, TOOLSCRIPT_HOME.
# Fails open: if the gateway cannot start, the session goes on without it (exit 0). In a project
# whose ./.toolscript.json is not trusted the gateway refuses to start (exit 2, nothing run); the
# hook then exports nothing and names the `toolscript trust <path>` command for the user.
set -uo pipefail

# shellcheck source=_session_state.sh
. "$(dirname "${BASH_SOURCE[0]}")/_session_state.sh"

mkdir -p "$state_dir" && chmod 700 "$state_dir"
umask 077

# Says why there is no gateway. An untrusted project config (./.toolscript.json) gets its own
# words: only the user may review and trust it, never the session's model on its own.
report_failure() {
  local trust
  trust=$(sed -n 's/^fix: \(toolscript trust .*\)$/\1/p' "$log_file" 2>/dev/null | head -n 1)
  if [ -n "$trust" ]; then
    echo "toolscript: no gateway for this session: the project config is not trusted" \
      "(it could run commands and receive credentials). Review it, then run: $trust" >&2
    echo "toolscript is not available in this session: this project's toolscript config is not" \
      "trusted. Do not trust it yourself; tell the user to review it and trust it if they want it."
  else
    echo "toolscript: the gateway did not start; see $log_file" >&2
  fi
}

start_gateway() {
  local token pid url launcher=()
  token=${TOOLSCRIPT_GATEWAY_TOKEN:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  # shellcheck disable=SC2086 # TOOLSCRIPT_BIN may carry arguments
  TOOLSCRIPT_GATEWAY_TOKEN=$token nohup ${launcher[@]+"${launcher[@]}"} ${TOOLSCRIPT_BIN:-toolscript} \
    gateway --port 0 >"$out_file" 2>"$log_file" </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  url=""
  for _ in $(seq 1 300); do # up to about 30 s: upstream servers may be slow to connect
    url=$(sed -n 's/^TOOLSCRIPT_GATEWAY_URL=//p' "$out_file" 2>/dev/null | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    kill "$pid" 2>/dev/null
    rm -f "$pid_file"
    report_failure
    return 1
  fi
  printf 'export TOOLSCRIPT_GATEWAY_URL=%q\nexport TOOLSCRIPT_GATEWAY_TOKEN=%q\n' \
    "$url" "$token" >"$env_state"
}

# resume, clear and compact keep the session's gateway when it still runs.
if ! { [ -f "$env_state" ] && is_gateway_pid "$(cat "$pid_file" 2>/dev/null)"; }; then
  start_gateway || exit 0
fi

if [ -n "${CLAUDE_ENV_FILE:-}" ]; then
  cat "$env_state" >>"$CLAUDE_ENV_FILE"
fi
echo "A toolscript gateway is running for this session: find tools with 'toolscript search'," \
  "read their types with 'toolscript types', run programs with 'toolscript exec' (toolscript skill)."
exit 0
