/**
 * The HTTP/1.1 edges of the guard's in-process server, driven over real loopback sockets with
 * raw bytes (and `fetch` where a real client is the point).
 */
import assert from "node:assert/strict";
import { serveWithConnectionGuard } from "./connection_guard.ts";
import { Logger } from "../log.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function quietLogger(): Logger {
  return new Logger({ level: "debug", write: () => {} });
}

/** A raw connection that collects everything the server sends, as text. */
async function rawClient(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let received = "";
  let ended = false;
  const changed: Array<() => void> = [];
  (async () => {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      received += decoder.decode(buffer.subarray(0, n), { stream: true });
      changed.splice(0).forEach((wake) => wake());
    }
    ended = true;
    changed.splice(0).forEach((wake) => wake());
  })();
  return {
    conn,
    send: (text: string) => conn.write(encoder.encode(text)),
    get received() {
      return received;
    },
    /** Resolves once the received text satisfies `done` (rejects if the server closes first). */
    async until(done: (text: string) => boolean): Promise<string> {
      for (let i = 0; i < 10_000 && !done(received); i++) {
        if (ended) throw new Error(`connection closed; received: ${JSON.stringify(received)}`);
        await new Promise<void>((wake) => changed.push(wake));
      }
      return received;
    },
    /** Resolves when the server has closed the connection. */
    async closed(): Promise<string> {
      for (let i = 0; i < 10_000 && !ended; i++) {
        await new Promise<void>((wake) => changed.push(wake));
      }
      return received;
    },
    [Symbol.dispose]() {
      try {
        conn.close();
      } catch { /* closed already */ }
    },
  };
}

const count = (text: string, part: string) => text.split(part).length - 1;

Deno.test("keep-alive: several requests reuse one connection, and HTTP/1.0 closes unless asked", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    (request) => new Response(new URL(request.url).pathname),
  );
  using client = await rawClient(server.addr.port);
  for (let i = 0; i < 5; i++) {
    await client.send(`GET /r${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await client.until((text) => text.endsWith(`/r${i}`));
  }
  assert.equal(count(client.received, "HTTP/1.1 200 OK"), 5);
  assert.equal(server.connectionCount, 1);
  assert.doesNotMatch(client.received, /connection: close/i);

  using old = await rawClient(server.addr.port);
  await old.send("GET /old HTTP/1.0\r\n\r\n");
  assert.match(await old.closed(), /connection: close\r\n[\s\S]*\/old$/);
  using kept = await rawClient(server.addr.port);
  await kept.send("GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  await kept.until((text) => text.endsWith("/k1"));
  await kept.send("GET /k2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  await kept.until((text) => text.endsWith("/k2"));
  assert.match(kept.received, /connection: keep-alive/);

  using closing = await rawClient(server.addr.port);
  await closing.send("GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  assert.match(await closing.closed(), /connection: close\r\n[\s\S]*\/last$/);
});

Deno.test("a chunked request body arrives decoded, with extensions and trailers, across many writes", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    async (request) => new Response(`[${await request.text()}]`),
  );
  using client = await rawClient(server.addr.port);
  const message = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n" +
    "GET /after HTTP/1.1\r\nHost: a\r\n\r\n";
  for (let i = 0; i < message.length; i += 7) await client.send(message.slice(i, i + 7));
  const text = await client.until((text) => count(text, "HTTP/1.1 200") === 2);
  assert.ok(text.includes("content-length: 18\r\n\r\n[hello 0123456789]"), text);
});

Deno.test("a body cut short by the client fails the handler's read; the server carries on", async () => {
  const outcome = Promise.withResolvers<string>();
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    async (request) => {
      try {
        outcome.resolve(`read ${(await request.text()).length}`);
      } catch (error) {
        outcome.resolve(`failed: ${error}`);
      }
      return new Response("ok");
    },
  );
  const client = await rawClient(server.addr.port);
  await client.send(
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(20_000),
  );
  client.conn.close();
  assert.match(await outcome.promise, /^failed: .*before the request body ended/);
  // The server stays usable.
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
    method: "POST",
    body: "x",
  });
  assert.equal(await response.text(), "ok");
});

Deno.test("a client that disconnects mid event stream aborts request.signal and cancels the stream", async () => {
  const aborted = Promise.withResolvers<void>();
  const cancelled = Promise.withResolvers<unknown>();
  const release = Promise.withResolvers<void>();
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    (request) => {
      request.signal.addEventListener("abort", () => aborted.resolve());
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode("data: first\n\n"));
          await release.promise;
        },
        cancel: (reason) => cancelled.resolve(reason),
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  );
  const client = await rawClient(server.addr.port);
  await client.send("GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
  // The first event is flushed while the stream stays open: chunked, one chunk per event.
  const text = await client.until((text) => text.includes("data: first\n\n\r\n"));
  assert.match(text, /transfer-encoding: chunked\r\n/);
  assert.match(text, /\r\n\r\nd\r\ndata: first\n\n\r\n$/);
  client.conn.close();
  await Promise.all([aborted.promise, cancelled.promise]);
  release.resolve();
});

Deno.test("an event stream flushes each event as it is produced, and ends with the last chunk", async () => {
  const next = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    () => {
      const body = ReadableStream.from((async function* () {
        yield encoder.encode("data: 1\n\n");
        await next[0].promise;
        yield encoder.encode("data: 2\n\n");
        await next[1].promise;
      })());
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  );
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await reader.read()).value, "data: 1\n\n");
  next[0].resolve();
  assert.equal((await reader.read()).value, "data: 2\n\n");
  next[1].resolve();
  assert.equal((await reader.read()).done, true);
});

Deno.test("HEAD gets the head a GET would get, without a body; the connection carries on", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    (request) => new Response(`${request.method} body`, { headers: { "x-kind": "test" } }),
  );
  using client = await rawClient(server.addr.port);
  await client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const text = await client.until((text) => text.endsWith("GET body"));
  const [head, next] = text.split("\r\n\r\n");
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /content-length: 9/);
  assert.match(head, /x-kind: test/);
  assert.match(next, /^HTTP\/1\.1 200 OK\r\n/);
});

Deno.test("a request head beyond 64 KiB is refused 431 and the connection closed", async () => {
  let called = false;
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    () => {
      called = true;
      return new Response("ok");
    },
  );
  using client = await rawClient(server.addr.port);
  await client.send(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`);
  assert.match(await client.closed(), /^HTTP\/1\.1 431 /);
  assert.equal(called, false);
});

Deno.test("Expect: 100-continue gets its interim response before the body is sent", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    async (request) => new Response(await request.text()),
  );
  using client = await rawClient(server.addr.port);
  await client.send(
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
  );
  await client.until((text) => text.startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  await client.send("ping");
  assert.match(await client.until((text) => text.endsWith("ping")), /200 OK/);
});

Deno.test("a large response body goes out whole, and a thrown handler is answered by onError", async () => {
  const big = "y".repeat(3 * 1024 * 1024 + 17);
  await using server = await serveWithConnectionGuard(
    {
      hostname: "127.0.0.1",
      port: 0,
      logger: quietLogger(),
      onError: () => new Response("handled", { status: 502 }),
    },
    (request) => {
      if (new URL(request.url).pathname === "/throw") throw new Error("boom");
      return new Response(big);
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  assert.equal(await (await fetch(`${base}/big`)).text(), big);
  const failed = await fetch(`${base}/throw`);
  assert.equal(failed.status, 502);
  assert.equal(await failed.text(), "handled");
});
