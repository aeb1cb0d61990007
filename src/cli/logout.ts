/**
 * `toolscript logout <server>`: revokes the stored OAuth tokens at the authorization server
 * when it offers revocation, and deletes the stored credentials in any case.
 */
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import { type CliIo, findServer, openCliRuntime, runtimeForCaller } from "./cli_runtime.ts";
import { logoutOAuth, type TokenRevocation } from "../auth/login/oauth_logout.ts";
import { stripControlChars } from "../log.ts";
import type { RemoteServerConfig } from "../config/types.ts";

/** Parsed `logout` arguments. */
export interface LogoutArgs {
  config?: string;
  help: boolean;
  server: string;
  /** `--caller`: that gateway caller's credentials instead of the gateway's own. */
  caller?: string;
}

/** Help text of `logout`. */
export const LOGOUT_HELP = `Usage: toolscript logout <server> [--caller <name>]

Revokes the server's stored OAuth tokens at its authorization server (when it offers
revocation) and deletes the stored credentials, even when revocation fails.
With --caller, those of that gateway caller ("gateway.callers") instead.
${GLOBAL_HELP}`;

/** Parses `logout` arguments (pure). */
export function parseLogoutArgs(argv: string[]): LogoutArgs {
  const { values, positionals, global } = parseCommandArgs("logout", argv, {
    caller: { type: "string" },
  }, { min: 1, max: 1 });
  return {
    ...global,
    server: positionals[0],
    ...(values.caller === undefined ? {} : { caller: values.caller as string }),
  };
}

/** Revokes and deletes; prints what happened on stdout. Exit 0 unless the store fails. */
export async function runLogout(args: LogoutArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(LOGOUT_HELP + "\n");
    return 0;
  }
  const runtime = runtimeForCaller(await openCliRuntime(io, args.config), args.caller);
  const stored = (await runtime.store.list()).includes(args.server);
  // A server no longer configured can still have its leftover credentials deleted.
  const config = stored && !runtime.config.servers.some((s) => s.name === args.server)
    ? undefined
    : findServer(runtime, args.server);
  const remote = config && config.type !== "stdio" ? config as RemoteServerConfig : undefined;
  const result = await logoutOAuth(args.server, {
    store: runtime.store,
    server: remote,
    logger: runtime.logger,
    fetch: io.fetch,
    signal: io.signal,
  });
  const name = args.server;
  if (!result.removed) io.stdout(`No stored credentials for ${name}\n`);
  else if (result.revoked) io.stdout(`Revoked and removed credentials for ${name}\n`);
  else if (result.revocationError) {
    io.stdout(`Removed credentials for ${name} (revocation failed: ${result.revocationError})\n`);
  } else if (result.revocations.length > 0) {
    io.stdout(`Removed credentials for ${name} (${describeRevocations(result.revocations)})\n`);
  } else io.stdout(`Removed credentials for ${name} (not revoked: ${result.revocationSkipped})\n`);
  return 0;
}

/**
 * `refresh token revoked; access token not revoked: HTTP 400, error "…": "…"`, or
 * `revocation failed: …` when every token failed alike.
 */
function describeRevocations(revocations: TokenRevocation[]): string {
  const errors = new Set(revocations.map((r) => r.error));
  if (errors.size === 1 && !revocations[0].revoked) {
    return `revocation failed: ${stripControlChars(revocations[0].error!)}`;
  }
  return revocations.map((r) => {
    const what = r.token.replace("_", " ");
    return r.revoked ? `${what} revoked` : `${what} not revoked: ${stripControlChars(r.error!)}`;
  }).join("; ");
}
