/**
 * This process's stdin and stdout as the stdio session reads and writes them: sockets on the
 * event loop for pipes, Deno's streams for files; either way every byte goes through in order
 * and the end of the input ends the process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../_helpers.ts";
import { processStdioEchoCommand } from "./_process_stdio_echo.ts";

const LINES = Array.from({ length: 200 }, (_, n) => JSON.stringify({ n, pad: "é".repeat(n) }));

Deno.test("over pipes, stdin and stdout are sockets, every byte comes back, EOF ends it", async () => {
  const { command, args } = processStdioEchoCommand();
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const expected = LINES.join("\n") + "\n";
  const writer = child.stdin.getWriter();
  // In pieces, so reads and writes interleave.
  for (const line of LINES) await writer.write(new TextEncoder().encode(line + "\n"));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(new TextDecoder().decode(stderr), /input: socket, output: socket/);
  assert.equal(new TextDecoder().decode(stdout), expected);
});

Deno.test("from a file to a file, the streams serve, and the whole file comes back", async () => {
  await using dir = await makeScratchDir();
  const inputPath = join(dir.path, "in.jsonl");
  const outputPath = join(dir.path, "out.jsonl");
  const expected = LINES.join("\n") + "\n";
  await Deno.writeTextFile(inputPath, expected);
  const { command, args } = processStdioEchoCommand();
  // Deno.Command cannot hand a file to a child as its stdin: the shell's redirections do.
  const { code, stderr } = await new Deno.Command("sh", {
    args: ["-c", 'exec "$@" < "$IN" > "$OUT"', "sh", command, ...args],
    env: { IN: inputPath, OUT: outputPath },
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(new TextDecoder().decode(stderr), /input: stream, output: stream/);
  assert.equal(await Deno.readTextFile(outputPath), expected);
});
