/**
 * A raw newline-delimited JSON-RPC child for the stdio transport specs (no SDK: it writes the
 * bytes the spec needs). It prints `child ready` and `second stderr line` on stderr at start,
 * then answers each request by method:
 *
 * - `echo`: `{ result: params }`.
 * - `burst` (`{count}`): `count` notifications `burst` and then the answer, in one write.
 * - `huge` (`{bytes}`): an answer line of about `bytes` bytes, written in 64 KiB pieces.
 * - `env`: `{ result: { env, cwd } }`, the child's environment and working directory.
 * - `die`: writes half an answer, then exits with code 3.
 *
 * Flags: `--ignore-eof` keeps running after stdin ends; `--ignore-term` ignores SIGTERM
 * (and says `got SIGTERM` on stderr).
 */
import { fileURLToPath } from "node:url";

/** The command that runs this child with `flags`. */
export function stdioChildCommand(flags: string[] = []): { command: string; args: string[] } {
  return {
    command: Deno.execPath(),
    args: ["run", "-A", "-q", fileURLToPath(import.meta.url), ...flags],
  };
}

const encoder = new TextEncoder();

async function write(text: string): Promise<void> {
  const data = encoder.encode(text);
  for (let at = 0; at < data.length;) at += await Deno.stdout.write(data.subarray(at));
}

async function answer(
  request: { id?: number | string; method: string; params?: Record<string, unknown> },
) {
  const params = request.params ?? {};
  const reply = (result: unknown) => JSON.stringify({ jsonrpc: "2.0", id: request.id, result });
  switch (request.method) {
    case "echo":
      return await write(reply(params) + "\n");
    case "burst": {
      const count = Number(params.count ?? 3);
      const lines = Array.from(
        { length: count },
        (_, n) => JSON.stringify({ jsonrpc: "2.0", method: "burst", params: { n } }),
      );
      return await write([...lines, reply({ count })].join("\n") + "\n");
    }
    case "huge": {
      const line = reply({ pad: "z".repeat(Number(params.bytes)) }) + "\n";
      for (let at = 0; at < line.length; at += 65536) await write(line.slice(at, at + 65536));
      return;
    }
    case "env":
      return await write(reply({ env: Deno.env.toObject(), cwd: Deno.cwd() }) + "\n");
    case "die":
      await write(reply({ text: "never finished" }).slice(0, 20));
      Deno.exit(3);
  }
}

async function main(): Promise<void> {
  const flags = new Set(Deno.args);
  if (flags.has("--ignore-term")) {
    Deno.addSignalListener("SIGTERM", () => console.error("got SIGTERM"));
  }
  console.error("child ready");
  console.error("second stderr line");
  let buffer = "";
  for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) await answer(JSON.parse(line));
    }
  }
  if (flags.has("--ignore-eof")) {
    console.error("stdin ended, staying");
    // Stay alive until a signal ends the process.
    setInterval(() => {}, 60_000);
  }
}

if (import.meta.main) await main();
