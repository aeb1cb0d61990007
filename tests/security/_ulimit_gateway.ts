/**
 * Private to tests/security: `toolscript gateway --port 0` run as a child under
 * `ulimit -n <limit>` (through bash), as the red team ran it, plus a half-open connection flood.
 */
import { join } from "node:path";
import { cliEnv, MAIN_TS, REPO_ROOT } from "../_helpers.ts";

/** A gateway child process under an open-file limit. */
export interface LimitedGateway extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/mcp`. */
  url: string;
  port: number;
  /** Settles when the process exits. */
  status: Promise<Deno.CommandStatus>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Starts the gateway on `config` with `ulimit -n limit` and waits for its URL line. */
export async function startLimitedGateway(
  config: string,
  options: { home: string; limit: number; env?: Record<string, string> },
): Promise<LimitedGateway> {
  const child = new Deno.Command("bash", {
    args: [
      "-c",
      `ulimit -n ${options.limit} && exec "$0" "$@"`,
      Deno.execPath(),
      "run",
      "-A",
      "-q",
      "--config",
      join(REPO_ROOT, "deno.json"),
      MAIN_TS,
      "gateway",
      "--port",
      "0",
      "--config",
      config,
    ],
    cwd: REPO_ROOT,
    env: cliEnv({ home: options.home, env: options.env }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  let stdout = "";
  const url = await (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += text;
      const match = /^TOOLSCRIPT_GATEWAY_URL=(\S+)$/m.exec(stdout);
      if (match) return match[1];
    }
    return undefined;
  })();
  if (!url) {
    await child.status;
    await stderrDone;
    throw new Error(`gateway exited without its URL line\nstderr:\n${stderr}`);
  }
  return {
    url,
    port: Number(new URL(url).port),
    status: child.status,
    stderr: () => stderr,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited already */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited already */ }
      }, 5_000);
      await child.status;
      clearTimeout(timer);
      await stderrDone;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** Connections that sent part of a request head and wait; `closed` counts server closes. */
export interface Flood extends Disposable {
  readonly size: number;
  /** How many the gateway has closed so far. */
  closed(): number;
  /** Resolves once the gateway has closed at least `count` of them. */
  closedAtLeast(count: number): Promise<void>;
}

/** Opens `count` connections to `port`, each sending half a request head, and holds them. */
export async function halfOpenFlood(port: number, count: number): Promise<Flood> {
  const partial = new TextEncoder().encode("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  const conns: Deno.TcpConn[] = [];
  let closed = 0;
  const waiters = new Set<() => void>();
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    await conn.write(partial).catch(() => {});
  }
  for (const conn of conns) {
    (async () => {
      const buffer = new Uint8Array(256);
      try {
        while (await conn.read(buffer) !== null) { /* drop */ }
      } catch { /* reset by the gateway: closed too */ }
      closed++;
      for (const waiter of [...waiters]) waiter();
    })();
  }
  return {
    size: count,
    closed: () => closed,
    closedAtLeast(target: number) {
      return new Promise((resolve) => {
        const check = () => {
          if (closed < target) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    [Symbol.dispose]() {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
    },
  };
}
