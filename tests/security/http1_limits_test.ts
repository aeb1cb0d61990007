/**
 * Resource limits and pipelining after a refusal, against the in-process HTTP/1.1 server and a
 * real gateway, over raw loopback bytes. A refused request (400, 413, 431) closes its connection,
 * so bytes after it are never read as a request; every unbounded thing a client can send (a
 * body, a head, header fields, chunks, silence, not reading) meets a bound.
 */
import assert from "node:assert/strict";
import { spawnTokenGateway } from "../_helpers.ts";
import { exchange, recordingServer, statuses } from "./_http1_attack.ts";

const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
const TOKEN = `canary-http1-limits-${crypto.randomUUID()}`;

Deno.test("limits: a head past 64 KiB (a long URL) is answered 431 and the bytes after it are not read", async () => {
  await using server = await recordingServer();
  const { text, timedOut } = await exchange(
    server.port,
    `GET /${"a".repeat(70_000)} HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`,
  );
  assert.equal(timedOut, false);
  assert.deepEqual(statuses(text), [431]);
  assert.deepEqual(server.seen, []);
});

Deno.test("limits: more than 100 header fields are answered 431, as hyper does", async () => {
  await using server = await recordingServer();
  const fields = Array.from({ length: 5_000 }, (_, i) => `x-${i}: v\r\n`).join("");
  const { text, timedOut } = await exchange(
    server.port,
    `GET /many HTTP/1.1\r\nHost: a\r\n${fields}\r\n${SMUGGLED}`,
  );
  assert.equal(timedOut, false);
  assert.deepEqual(statuses(text), [431]);
  assert.deepEqual(server.seen, []);
  // 99 fields besides Host are fine.
  const fine = Array.from({ length: 99 }, (_, i) => `x-${i}: v\r\n`).join("");
  const ok = await exchange(
    server.port,
    `GET /fine HTTP/1.1\r\nHost: a\r\nConnection: close\r\n${
      fine.slice(0, -"x-98: v\r\n".length)
    }\r\n`,
  );
  assert.deepEqual(statuses(ok.text), [200]);
});

Deno.test("pipelining: a response sent before its request body ended closes the connection", async () => {
  // The handler refuses without reading (as a 413 or a 401 does): the rest of the body, and a
  // request hidden in it, must never be read as requests.
  await using server = await recordingServer({}, () => new Response("no", { status: 413 }));
  const { text, timedOut } = await exchange(server.port, [
    "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n",
    "x".repeat(1000),
    SMUGGLED,
  ]);
  assert.equal(timedOut, false, "the connection stayed open for the rest of the body");
  assert.deepEqual(statuses(text), [413]);
  assert.match(text, /connection: close/i);
  assert.deepEqual(server.seen.map((r) => r.path), ["/big"]);
});

Deno.test("pipelining: a refused request behind a served one: the first is answered, nothing after the refusal", async () => {
  await using server = await recordingServer();
  const { text } = await exchange(
    server.port,
    "GET /first HTTP/1.1\r\nHost: a\r\n\r\n" +
      "GET /bad HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n" + SMUGGLED,
  );
  assert.deepEqual(statuses(text), [200, 400]);
  assert.deepEqual(server.seen.map((r) => r.path), ["/first"]);
});

Deno.test("limits: a chunked body that never ends is closed at the idle timeout, its handler sees it fail", async () => {
  let bodyError = "";
  await using server = await recordingServer({ idleTimeoutMs: 300 }, async (request) => {
    try {
      await request.text();
    } catch (error) {
      bodyError = String(error);
    }
    return new Response("read");
  });
  const { text, timedOut } = await exchange(
    server.port,
    "POST /forever HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    20_000,
  );
  assert.equal(timedOut, false, "the server never closed a stalled body");
  assert.doesNotMatch(text, /HTTP\/1\.1 200/);
  assert.match(bodyError, /closed/);
});

Deno.test("limits: 20000 one-byte chunks decode to the right body", async () => {
  await using server = await recordingServer();
  const chunks = "1\r\nz\r\n".repeat(20_000);
  const { text } = await exchange(
    server.port,
    `POST /tiny HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
    30_000,
  );
  assert.deepEqual(statuses(text), [200]);
  assert.equal(server.seen[0].body, "z".repeat(20_000));
});

Deno.test("limits: a client that never reads an event stream is closed after the idle timeout; the stream is cancelled", async () => {
  let cancelled: () => void;
  const cancel = new Promise<void>((resolve) => cancelled = resolve);
  let produced = 0;
  const piece = new Uint8Array(64 * 1024).fill(0x61);
  await using server = await recordingServer({ idleTimeoutMs: 300 }, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        // Produces whenever asked: the writer asks only after each write completed, so what is
        // queued stays bounded while the client does not read.
        pull(controller) {
          if (produced > 1024) return controller.close(); // 64 MiB at most, well past any socket buffer
          produced++;
          controller.enqueue(piece);
        },
        cancel: () => cancelled(),
      }),
      { headers: { "content-type": "text/event-stream" } },
    ));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode("GET /events HTTP/1.1\r\nHost: a\r\n\r\n"));
    // Never read: the kernel buffers fill, the write stalls, the guard closes the connection.
    const timer = setTimeout(() => cancelled(), 30_000);
    await cancel;
    clearTimeout(timer);
    assert.ok(
      produced < 1024,
      `the server produced ${produced} pieces for a client that never read`,
    );
    assert.equal(server.server.connectionCount, 0);
  } finally {
    conn.close();
  }
});

const startGateway = () => spawnTokenGateway(TOKEN);

Deno.test("gateway: POST /mcp bodies are capped at 4 MiB (413), and the connection then closes", async () => {
  await using gateway = await startGateway();
  const head = (framing: string) =>
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
    `Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;
  const smuggled =
    `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`;
  // Declared past the cap: refused before any of it is read.
  const declared = await exchange(gateway.port, [
    head(`Content-Length: ${4 * 1024 * 1024 + 1}`),
    "{",
    smuggled,
  ]);
  assert.equal(declared.timedOut, false, "the gateway kept reading a body it had refused");
  assert.deepEqual(statuses(declared.text), [413], declared.text);
  assert.match(declared.text, /4 MiB|4194304|too large/i);
  // Chunked past the cap, never ended: the read stops at the cap, the connection closes.
  const chunk = `100000\r\n${"x".repeat(0x100000)}\r\n`;
  const chunked = await exchange(
    gateway.port,
    [head("Transfer-Encoding: chunked"), ...Array.from({ length: 5 }, () => chunk)],
    30_000,
  );
  assert.equal(chunked.timedOut, false);
  assert.deepEqual(statuses(chunked.text), [413], chunked.text);
  for (const text of [declared.text, chunked.text]) assert.ok(!text.includes(TOKEN));
});
