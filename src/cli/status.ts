/**
 * `toolscript status [<server>] [--json]`: per server, the transport, auth type, state
 * (`ok`, `needs-auth`, `expired`, `refresh-failed`, `error`), token expiry and scopes.
 * Connects to each server once to see whether it really works. Never prints a secret.
 */
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import {
  type CliIo,
  createCliGateway,
  findEnabledServer,
  openCliRuntime,
  runtimeForCaller,
} from "./cli_runtime.ts";
import type { CredentialStatus } from "../auth/types.ts";
import { stripControlChars } from "../log.ts";
import { terminalJson } from "./_terminal.ts";

/** Parsed `status` arguments. */
export interface StatusArgs {
  config?: string;
  help: boolean;
  json: boolean;
  server?: string;
  /** `--caller`: that gateway caller's credentials instead of the gateway's own. */
  caller?: string;
}

/** Help text of `status`. */
export const STATUS_HELP = `Usage: toolscript status [<server>] [--json] [--caller <name>]

Shows each enabled server's transport, auth type, state, token expiry and scopes.
States: ok, needs-auth, expired, refresh-failed, error.
Exit status: 0 all ok, 3 a server needs 'toolscript auth', 1 a server is in error.

Options:
  --json            Print JSON
  --caller <name>   The state of this gateway caller's own OAuth credentials
${GLOBAL_HELP}`;

/** One row of `status`. */
export interface StatusRow {
  server: string;
  transport: string;
  auth: string;
  state: string;
  expiresAt?: string;
  scopes?: string[];
  registration?: string;
  /** True when the tokens are DPoP-bound (RFC 9449). */
  dpop?: boolean;
  error?: string;
  fix?: string;
}

/** Parses `status` arguments (pure). */
export function parseStatusArgs(argv: string[]): StatusArgs {
  const { values, positionals, global } = parseCommandArgs("status", argv, {
    json: { type: "boolean" },
    caller: { type: "string" },
  }, { min: 0, max: 1 });
  return {
    ...global,
    json: values.json === true,
    server: positionals[0],
    ...(values.caller === undefined ? {} : { caller: values.caller as string }),
  };
}

/**
 * Prints the status table. Exit 0 when every shown server is ok, 3 when the only problems are
 * logins (needs-auth, expired, refresh-failed), 1 when a server is in error.
 */
export async function runStatus(args: StatusArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(STATUS_HELP + "\n");
    return 0;
  }
  const runtime = runtimeForCaller(await openCliRuntime(io, args.config), args.caller);
  const servers = args.server
    ? [findEnabledServer(runtime, args.server)]
    : runtime.config.servers.filter((s) => s.enabled);
  await using gateway = createCliGateway(runtime, servers);
  await gateway.start();
  const rows: StatusRow[] = [];
  for (const health of gateway.health()) {
    const server = servers.find((s) => s.name === health.name)!;
    const credentials: CredentialStatus | undefined = await runtime.credentialsFor(server)
      ?.status();
    const state = health.state === "ok"
      ? credentials?.state ?? "ok"
      : health.state === "needs-auth"
      ? credentials?.state === "expired" || credentials?.state === "refresh-failed"
        ? credentials.state
        : "needs-auth"
      : "error";
    rows.push({
      server: health.name,
      transport: health.transport,
      auth: credentials?.authType ?? "none",
      state,
      expiresAt: credentials?.expiresAt ? new Date(credentials.expiresAt).toISOString() : undefined,
      scopes: credentials?.scopes,
      registration: credentials?.registration,
      ...(credentials?.dpop ? { dpop: true } : {}),
      error: health.error ?? credentials?.lastError,
      fix: health.fix,
    });
  }
  if (args.json) {
    io.stdout(runtime.logger.redactor.redactText(terminalJson(rows)) + "\n");
  } else {
    for (const r of rows) {
      const parts = [r.server, r.transport, r.auth, r.state];
      if (r.expiresAt) parts.push(`expires ${r.expiresAt}`);
      if (r.scopes?.length) parts.push(`scopes "${r.scopes.join(" ")}"`);
      if (r.registration) parts.push(`client ${r.registration}`);
      if (r.dpop) parts.push("dpop");
      // Error texts come from upstreams and authorization servers: no escape sequences.
      if (r.error && r.state !== "ok") parts.push(stripControlChars(r.error).replace(/\s+/g, " "));
      io.stdout(runtime.logger.redactor.redactText(parts.join("\t")) + "\n");
    }
  }
  if (rows.some((r) => r.state === "error")) return 1;
  return rows.every((r) => r.state === "ok") ? 0 : 3;
}
