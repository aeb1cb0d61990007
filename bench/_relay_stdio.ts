/**
 * The floor of a stdio hop for bench group `1d`: a byte relay between its own stdin/stdout and
 * a child's (`deno run bench/_relay_stdio.ts <command> [args…]`), with the same byte I/O the
 * gateway uses (src/gateway/byte_pipes.ts), parsing nothing.
 */
import { byteChunks, processStdio, streamSink } from "../src/gateway/byte_pipes.ts";

if (import.meta.main) {
  const [command, ...args] = Deno.args;
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const io = processStdio();
  const toChild = streamSink(child.stdin);
  // A chunk is only valid until the next read: each is copied before it is written.
  io.input.start((chunk) => void toChild.write(chunk.slice()).catch(() => {}), () => {
    void toChild.close();
  });
  for await (const chunk of byteChunks(child.stdout)) await io.output.write(chunk.slice());
  await io.output.close();
}
