/**
 * The loopback redirect target of a native-app OAuth login (RFC 8252 §7.3): a one-page HTTP
 * server on 127.0.0.1 that hands each authorization response to the login flow and shows
 * the browser a short success or failure page, never a code or token.
 */
import { AuthError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../log.ts";

/** Ports tried, in order, when no port is pinned; then any free port. */
export const DEFAULT_CALLBACK_PORTS: readonly number[] = Array.from(
  { length: 10 },
  (_, i) => 33418 + i,
);

/** What the browser is told after a callback. */
export interface CallbackOutcome {
  ok: boolean;
  /** Plain text; escaped before it is put in the page. */
  message: string;
}

/** Options of {@link startLoopbackCallback}. */
export interface LoopbackCallbackOptions {
  /** A pinned port (`--callback-port`, config `callbackPort`): busy means failure. */
  port?: number;
  /** Ports to try first when none is pinned; default {@link DEFAULT_CALLBACK_PORTS}. */
  preferredPorts?: readonly number[];
  /** The callback path; default `/callback`. */
  path?: string;
  /** Host name put in the redirect URI (`127.0.0.1` or `localhost`); default `127.0.0.1`. */
  redirectHost?: string;
  /** Receives every authorization response (a request to the path with `code` or `error`). */
  onCallback: (url: URL) => Promise<CallbackOutcome>;
  /** The server name, for messages. */
  server: string;
  logger?: Logger;
}

/** A listening callback server. `await using` closes it. */
export interface LoopbackCallback extends AsyncDisposable {
  /** The redirect URI to register and send, e.g. `http://127.0.0.1:33418/callback`. */
  readonly redirectUri: string;
  readonly port: number;
  /** Stops listening (after answering requests in flight). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts listening on 127.0.0.1: on the pinned port, or the first free preferred port, or any
 * free port.
 * @throws {AuthError} when the pinned port is in use, naming the port.
 */
export function startLoopbackCallback(options: LoopbackCallbackOptions): LoopbackCallback {
  const path = options.path ?? "/callback";
  const logger = options.logger ?? silentLogger();
  const handler = (request: Request) => handle(request, path, options, logger);
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (options.port !== undefined) {
    server = tryServe(options.port, handler);
    if (!server) {
      throw new AuthError(
        `Cannot listen for the OAuth callback of server "${options.server}" on 127.0.0.1:${options.port}: ` +
          `port ${options.port} is in use (or not allowed); free it or choose another with --callback-port`,
        { server: options.server },
      );
    }
  } else {
    for (const port of [...(options.preferredPorts ?? DEFAULT_CALLBACK_PORTS), 0]) {
      server = tryServe(port, handler);
      if (server) break;
    }
    if (!server) throw new AuthError("Cannot listen for the OAuth callback on 127.0.0.1");
  }
  const port = server.addr.port;
  const host = options.redirectHost ?? "127.0.0.1";
  const redirectUri = `http://${host}:${port}${path}`;
  logger.debug("Listening for the OAuth callback", { redirectUri });
  let closing: Promise<void> | undefined;
  const close = () => closing ??= server.shutdown();
  return { redirectUri, port, close, [Symbol.asyncDispose]: close };
}

function tryServe(
  port: number,
  handler: (request: Request) => Promise<Response>,
): Deno.HttpServer<Deno.NetAddr> | undefined {
  try {
    return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.PermissionDenied) {
      return undefined;
    }
    throw error;
  }
}

async function handle(
  request: Request,
  path: string,
  options: LoopbackCallbackOptions,
  logger: Logger,
): Promise<Response> {
  const url = new URL(request.url);
  if (request.method !== "GET" || url.pathname !== path) {
    return new Response("Not found", { status: 404 });
  }
  if (!url.searchParams.has("code") && !url.searchParams.has("error")) {
    return page(400, { ok: false, message: "This is not an authorization response." });
  }
  logger.debug("Received the OAuth callback", { url: url.href });
  let outcome: CallbackOutcome;
  try {
    outcome = await options.onCallback(url);
  } catch (error) {
    logger.debug("OAuth callback handler failed", { error: String(error) });
    outcome = { ok: false, message: "toolscript could not complete the authorization." };
  }
  return page(outcome.ok ? 200 : 400, outcome);
}

function page(status: number, outcome: CallbackOutcome): Response {
  const title = outcome.ok ? "Authorized" : "Authorization failed";
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>toolscript: ${title}</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3em">
<h1>${title}</h1>
<p>${escapeHtml(outcome.message)}</p>
<p>${outcome.ok ? "You can close this window and return to the terminal." : ""}</p>
</body></html>
`;
  return new Response(html, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    },
  });
}

/**
 * Makes an authorization server's `error` / `error_description` safe to show: printable
 * ASCII only, at most 200 characters.
 */
export function sanitizeAuthorizationError(error: string, description?: string | null): string {
  const clean = (s: string, max: number) => s.replace(/[^\x20-\x7e]/g, "").slice(0, max).trim();
  const code = clean(error, 64) || "unknown_error";
  const text = description ? clean(description, 200) : "";
  return text ? `${code}: ${text}` : code;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
