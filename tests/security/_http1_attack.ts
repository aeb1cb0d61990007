/**
 * What the HTTP/1.1 attack specs share: a real guarded server on a loopback port whose handler
 * records every request it sees, and a raw client that sends bytes and reads the answer until
 * the server closes.
 */
import { serveWithConnectionGuard } from "../../src/gateway/connection_guard.ts";
import type { ConnectionGuardOptions, GuardedServer } from "../../src/gateway/connection_guard.ts";
import { Logger } from "../../src/log.ts";
import { writeAll } from "../../src/write_all.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** A request the handler saw. */
export interface SeenRequest {
  method: string;
  path: string;
  host: string;
  body: string;
}

/** A guarded server whose handler echoes `method path body` and records what it saw. */
export interface RecordingServer extends AsyncDisposable {
  server: GuardedServer;
  port: number;
  seen: SeenRequest[];
}

/**
 * Starts a recording server. `respond` may replace the echo (it gets the request before its
 * body was read).
 */
export async function recordingServer(
  options: Partial<ConnectionGuardOptions> = {},
  respond?: (request: Request) => Response | Promise<Response> | undefined,
): Promise<RecordingServer> {
  const seen: SeenRequest[] = [];
  const server = await serveWithConnectionGuard(
    {
      hostname: "127.0.0.1",
      port: 0,
      logger: new Logger({ level: "debug", write: () => {} }),
      ...options,
    },
    async (request) => {
      const url = new URL(request.url);
      const record: SeenRequest = {
        method: request.method,
        path: url.pathname,
        host: url.host,
        body: "",
      };
      seen.push(record);
      const answer = await respond?.(request);
      if (answer) return answer;
      record.body = request.body ? await request.text() : "";
      return new Response(`${request.method} ${url.pathname} ${record.body}`);
    },
  );
  return {
    server,
    port: server.addr.port,
    seen,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/**
 * Sends `bytes` (one write, or one write per part) on a new connection and returns everything
 * the server sent until it closed the connection or `timeoutMs` passed (then `timedOut`).
 */
export async function exchange(
  port: number,
  parts: string | Array<string | Uint8Array>,
  timeoutMs = 5_000,
): Promise<{ text: string; timedOut: boolean }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* closed already */ }
  }, timeoutMs);
  let timedOut = false;
  try {
    for (const part of typeof parts === "string" ? [parts] : parts) {
      await writeAll(conn, typeof part === "string" ? encoder.encode(part) : part).catch(() => {});
    }
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(64 * 1024);
    for (let i = 0; i < 10_000; i++) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    return { text: chunks.map((c) => latin1.decode(c)).join(""), timedOut };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed already */ }
  }
}

/** The status codes of every response in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}
