/**
 * `toolscript auth <server>`: logs in to an OAuth-protected server (authorization code + PKCE
 * in a browser, or `--device`) and stores the credentials for the gateway.
 */
import { GLOBAL_HELP, parseCommandArgs, parsePort, parseSeconds } from "./cli_args.ts";
import { type CliIo, findServer, openCliRuntime, runtimeForCaller } from "./cli_runtime.ts";
import { AuthError, UsageError } from "../errors.ts";
import { loginWithOAuth } from "../auth/login/oauth_login.ts";
import { loginWithDeviceCode } from "../auth/login/oauth_device_login.ts";
import { stripControlChars } from "../log.ts";

/** Parsed `auth` arguments. */
export interface AuthArgs {
  config?: string;
  help: boolean;
  server: string;
  /** False with `--no-browser`. */
  browser: boolean;
  callbackPort?: number;
  clientId?: string;
  clientSecret?: string;
  scopes?: string[];
  timeoutMs: number;
  device: boolean;
  /** `--caller`: store the credentials for this `gateway.callers` caller. */
  caller?: string;
}

/** Help text of `auth`. */
export const AUTH_HELP = `Usage: toolscript auth <server> [options]

Logs in to an OAuth-protected server and stores the credentials for the gateway.
Prints the authorization URL on stderr and opens a browser. The login completes when the
browser returns to toolscript, or when you paste the URL the browser ended on.

Options:
  --no-browser           Only print the URL (also when there is no display)
  --callback-port <n>    Listen for the browser's return on this port (default: 33418-33427)
  --client-id <id>       Use a pre-registered OAuth client
  --client-secret <s>    Its secret (confidential clients)
  --scope "<a b>"        Scopes to request (default: config, then what the server asks for)
  --timeout <seconds>    Give up after this long (default 300)
  --device               Use the device flow (enter a code on another device)
  --caller <name>        Store them for this gateway caller ("gateway.callers"), used
                         only on that caller's calls
${GLOBAL_HELP}`;

const DEFAULT_TIMEOUT_MS = 300_000;
const COUNTDOWN_MS = 30_000;

/** Parses `auth` arguments (pure). */
export function parseAuthArgs(argv: string[]): AuthArgs {
  const { values, positionals, global } = parseCommandArgs("auth", argv, {
    "no-browser": { type: "boolean" },
    "callback-port": { type: "string" },
    "client-id": { type: "string" },
    "client-secret": { type: "string" },
    scope: { type: "string" },
    timeout: { type: "string" },
    device: { type: "boolean" },
    caller: { type: "string" },
  }, { min: 1, max: 1 });
  const callbackPort = parsePort(values["callback-port"], "--callback-port");
  if (callbackPort === 0) throw new UsageError('--callback-port must be from 1 to 65535, got "0"');
  const scope = values.scope as string | undefined;
  const clientId = values["client-id"] as string | undefined;
  const clientSecret = values["client-secret"] as string | undefined;
  if (clientSecret !== undefined && clientId === undefined && !global.help) {
    throw new UsageError("--client-secret needs --client-id", { fix: "toolscript auth --help" });
  }
  return {
    ...global,
    server: positionals[0],
    browser: values["no-browser"] !== true,
    callbackPort,
    clientId,
    clientSecret,
    scopes: scope === undefined ? undefined : scope.split(/[\s,]+/).filter(Boolean),
    timeoutMs: parseSeconds(values.timeout, "--timeout") ?? DEFAULT_TIMEOUT_MS,
    device: values.device === true,
    ...(values.caller === undefined ? {} : { caller: values.caller as string }),
  };
}

/** Runs the login; exit 0 with `Authenticated <server>` on stdout. */
export async function runAuth(args: AuthArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(AUTH_HELP + "\n");
    return 0;
  }
  const runtime = runtimeForCaller(await openCliRuntime(io, args.config), args.caller);
  const { logger } = runtime;
  logger.redactor.addSecret(args.clientSecret);
  const server = findServer(runtime, args.server);
  if (server.type === "stdio") {
    throw new UsageError(
      `Server "${server.name}" is a stdio server; only http and sse servers log in with OAuth`,
    );
  }
  if (server.auth && server.auth.type !== "oauth") {
    throw new UsageError(
      `Server "${server.name}" uses "${server.auth.type}" credentials from config; ` +
        `toolscript auth is for OAuth servers`,
    );
  }
  // The authorization URL carries `state`, which the redacting stderr would mask.
  const printVerbatim = io.stderrVerbatim ?? io.stderr;
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new DOMException("Timed out", "TimeoutError")),
    args.timeoutMs,
  );
  const signal = AbortSignal.any([io.signal, timeout.signal]);
  const deadline = io.now() + args.timeoutMs;
  let countdown: ReturnType<typeof setInterval> | undefined;
  const startCountdown = () => {
    countdown ??= setInterval(() => {
      const left = Math.max(0, Math.round((deadline - io.now()) / 1000));
      io.stderr(`Waiting for authorization… ${left}s left\n`);
    }, COUNTDOWN_MS);
  };
  const openBrowser = async (url: string) => {
    if (!args.browser || !io.openBrowser) return;
    if (!(await io.openBrowser(url))) logger.debug("No browser could be opened; use the URL above");
  };
  const common = {
    server,
    store: runtime.store,
    logger,
    fetch: io.fetch,
    now: io.now,
    signal,
    clientId: args.clientId,
    clientSecret: args.clientSecret,
    scopes: args.scopes,
  };
  try {
    if (args.device) {
      await loginWithDeviceCode({
        ...common,
        onUserCode: async (prompt) => {
          // Checked (https or loopback http) and control-free already; stripped again here,
          // the one place that prints what an authorization server sent.
          const url = stripControlChars(prompt.verificationUriComplete ?? prompt.verificationUri);
          printVerbatim(`Open this URL to authorize ${server.name}: ${url}\n`);
          io.stderr(`Then confirm the code: ${stripControlChars(prompt.userCode)}\n`);
          await openBrowser(url);
          startCountdown();
        },
      });
    } else {
      await loginWithOAuth({
        ...common,
        callbackPort: args.callbackPort,
        onAuthorizationUrl: async (url) => {
          printVerbatim(
            `Open this URL to authorize ${server.name}: ${stripControlChars(url.href)}\n`,
          );
          io.stderr(
            "Waiting for the browser to return to toolscript " +
              "(or paste the URL it ended on and press Enter)…\n",
          );
          await openBrowser(url.href);
          startCountdown();
        },
        readPasted: (stop) => readLines(io.stdin, stop),
      });
    }
  } catch (error) {
    if (timeout.signal.aborted && error === timeout.signal.reason) {
      throw new AuthError(
        `Timed out after ${Math.round(args.timeoutMs / 1000)} s waiting for the authorization ` +
          `of server "${server.name}"`,
        {
          server: server.name,
          login: { server: server.name, options: "--timeout 600" },
        },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    clearInterval(countdown);
  }
  io.stdout(`Authenticated ${server.name}\n`);
  return 0;
}

/** Lines of `stream` until it ends or `stop` aborts (which cancels the pending read). */
async function* readLines(
  stream: ReadableStream<Uint8Array>,
  stop: AbortSignal,
): AsyncGenerator<string> {
  if (stop.aborted) return;
  const reader = stream.getReader();
  const onStop = () => void reader.cancel().catch(() => {});
  stop.addEventListener("abort", onStop, { once: true });
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    while (!stop.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
        yield buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
      }
    }
    if (buffer && !stop.aborted) yield buffer;
  } finally {
    stop.removeEventListener("abort", onStop);
    reader.releaseLock();
  }
}
