/**
 * Helpers for the machine-credential specs: a debug logger that keeps its lines, secret files,
 * a controllable clock, a recording sleep, and a small front server that forwards token
 * requests to the fixture authorization server while changing what a spec needs changed
 * (metadata, token response fields).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../src/log.ts";
import type { OAuthServerHandle, PreRegisteredClient } from "../fixtures/oauth_server.ts";

/** A logger at debug level whose lines are kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ level: "debug", write: (line) => lines.push(line) }), lines };
}

/** Asserts that no captured line contains any of `secrets`. */
export function assertNoSecrets(lines: string[], secrets: Iterable<string | undefined>): void {
  for (const secret of secrets) {
    if (!secret) continue;
    for (const line of lines) {
      assert.ok(!line.includes(secret), `a log line contains a secret: ${line.slice(0, 60)}…`);
    }
  }
}

/** Writes `text` to `<dir>/<name>` with mode 0600 and returns the path. */
export async function writeSecretFile(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text + "\n", { mode: 0o600 });
  return path;
}

/** A clock a spec moves by hand. */
export class ManualClock {
  ms = Date.now();
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A sleep that resolves at once and remembers every requested delay. */
export function recordingSleep(): {
  sleeps: number[];
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
} {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
}

/** A confidential client allowed only the client_credentials grant. */
export function secretClient(clientId: string, secret: string): PreRegisteredClient {
  return {
    client_id: clientId,
    client_secret: secret,
    grant_types: ["client_credentials"],
    redirect_uris: [],
    token_endpoint_auth_method: "client_secret_basic",
  };
}

/** Canary values: unique per call, so a leak is unmistakable. */
export function canary(label: string): string {
  return `canary-${label}-${crypto.randomUUID()}`;
}

/** Options of {@link startTokenFront}. */
export interface TokenFrontOptions {
  /** Serve RFC 8414 metadata listing these methods; no metadata (404) when unset. */
  authMethods?: string[];
  /** Rewrites a successful token response body. */
  rewrite?: (body: Record<string, unknown>) => Record<string, unknown>;
}

/** A front server: `tokenUrl` forwards to the fixture's token endpoint. */
export interface TokenFront extends AsyncDisposable {
  tokenUrl: string;
  /** Form parameters of each forwarded request, secrets removed. */
  requests: URLSearchParams[];
}

/** Starts a front for `as` on 127.0.0.1 (see {@link TokenFrontOptions}). */
export async function startTokenFront(
  as: OAuthServerHandle,
  options: TokenFrontOptions = {},
): Promise<TokenFront> {
  const requests: URLSearchParams[] = [];
  let origin = "";
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr) },
    async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/.well-known/oauth-authorization-server" && options.authMethods) {
        return Response.json({
          issuer: origin,
          token_endpoint: `${origin}/token`,
          token_endpoint_auth_methods_supported: options.authMethods,
        });
      }
      if (path !== "/token") {
        await request.body?.cancel();
        return new Response("not found", { status: 404 });
      }
      const body = await request.text();
      const form = new URLSearchParams(body);
      for (const key of ["client_secret", "client_assertion"]) form.delete(key);
      requests.push(form);
      const headers = new Headers(request.headers);
      headers.delete("host");
      const upstream = await fetch(as.tokenEndpoint, { method: "POST", headers, body });
      const json = await upstream.json();
      const out = upstream.ok && options.rewrite ? options.rewrite(json) : json;
      return Response.json(out, {
        status: upstream.status,
        headers: { "cache-control": "no-store" },
      });
    },
  );
  const addr = await listening.promise;
  origin = `http://127.0.0.1:${addr.port}`;
  return {
    tokenUrl: `${origin}/token`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A loopback URL where nothing listens. */
export function unusedPortUrl(path: string): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}${path}`;
}
