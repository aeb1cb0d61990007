import assert from "node:assert/strict";
import { byteChunks, streamSource } from "./byte_pipes.ts";

const text = (chunks: Uint8Array[]) => new TextDecoder().decode(concat(chunks));

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** A byte stream (as fetch bodies and child pipes are) that enqueues `parts`, then closes. */
function byteStream(parts: string[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (next === parts.length) {
        controller.close();
        // A read waiting with its own buffer ends once the source says it put nothing in.
        return controller.byobRequest?.respond(0);
      }
      controller.enqueue(new TextEncoder().encode(parts[next++]));
    },
  });
}

Deno.test("a byte stream's chunks come through in order, through one reused buffer", async () => {
  const parts = ["event: message\n", 'data: {"a":1}\n\n', "x".repeat(40_000)];
  const chunks: Uint8Array[] = [];
  for await (const chunk of byteChunks(byteStream(parts))) chunks.push(chunk.slice());
  assert.equal(text(chunks), parts.join(""));
});

Deno.test("a stream that is not a byte stream is read as it comes", async () => {
  const stream = ReadableStream.from(["one ", "two"].map((s) => new TextEncoder().encode(s)));
  const chunks: Uint8Array[] = [];
  for await (const chunk of byteChunks(stream)) chunks.push(chunk.slice());
  assert.equal(text(chunks), "one two");
});

Deno.test("aborting ends the read of a stream that never ends, and a source's end is clean", async () => {
  const endless = (pulled: () => void) =>
    new ReadableStream<Uint8Array>({
      type: "bytes",
      pull: () => {
        pulled();
        return new Promise(() => {}); // never delivers
      },
    });
  const stop = new AbortController();
  const firstPull = Promise.withResolvers<void>();
  const reading = (async () => {
    for await (const _ of byteChunks(endless(firstPull.resolve), stop.signal)) { /* none */ }
  })();
  await firstPull.promise;
  stop.abort();
  await reading;
  const sourcePull = Promise.withResolvers<void>();
  const source = streamSource(endless(sourcePull.resolve));
  const ended = Promise.withResolvers<Error | undefined>();
  source.start(() => {}, ended.resolve);
  await sourcePull.promise;
  source.stop();
  assert.equal(await ended.promise, undefined, "stopping is no error");
});

Deno.test("a signal aborted before the first read reads nothing", async () => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of byteChunks(byteStream(["never"]), AbortSignal.abort())) {
    chunks.push(chunk);
  }
  assert.deepEqual(chunks, []);
});
