/**
 * `toolscript servers`: lists the configured servers, their transport and auth type, without
 * connecting to any of them.
 */
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import { type CliIo, openCliRuntime } from "./cli_runtime.ts";
import { terminalJson } from "./_terminal.ts";
import { stripControlChars } from "../log.ts";

/** Parsed `servers` arguments. */
export interface ServersArgs {
  config?: string;
  help: boolean;
  json: boolean;
}

/** Help text of `servers`. */
export const SERVERS_HELP = `Usage: toolscript servers [--json]

Lists the configured servers (name, transport, target, auth type, enabled).

Options:
  --json   Print JSON
${GLOBAL_HELP}`;

/** Parses `servers` arguments (pure). */
export function parseServersArgs(argv: string[]): ServersArgs {
  const { values, global } = parseCommandArgs("servers", argv, { json: { type: "boolean" } }, {
    min: 0,
    max: 0,
  });
  return { ...global, json: values.json === true };
}

/** Prints the configured servers. */
export async function runServers(args: ServersArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(SERVERS_HELP + "\n");
    return 0;
  }
  const runtime = await openCliRuntime(io, args.config);
  const rows = runtime.config.servers.map((s) => ({
    name: s.name,
    transport: s.type,
    // Arguments and URLs may carry secrets (`--token ${TOKEN}`, `?api_key=`, `user:pw@`).
    target: runtime.logger.redactor.redactText(
      s.type === "stdio" ? [s.command, ...s.args].join(" ") : s.url,
    ),
    auth: s.tokenOverride
      ? "bearer (environment)"
      : s.type === "stdio"
      ? "none"
      : s.auth?.type ?? "none",
    enabled: s.enabled,
  }));
  if (args.json) {
    io.stdout(terminalJson(rows) + "\n");
    return 0;
  }
  for (const r of rows) {
    // A project's config is text from elsewhere too: its command line is printed escape-free.
    io.stdout(
      `${r.name}\t${r.transport}\t${r.auth}\t${r.enabled ? "enabled" : "disabled"}\t` +
        `${stripControlChars(r.target)}\n`,
    );
  }
  return 0;
}
