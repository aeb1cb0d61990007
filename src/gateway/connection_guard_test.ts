import assert from "node:assert/strict";
import { serveWithConnectionGuard } from "./connection_guard.ts";
import { RequestFramer } from "./_request_framing.ts";
import { Logger } from "../log.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function quietLogger(lines: string[] = []): Logger {
  return new Logger({ level: "debug", write: (line) => lines.push(line) });
}

/** A raw client connection that reads whole responses (`content-length` bodies only). */
async function rawConnect(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let pending = new Uint8Array(0);
  async function readMore(): Promise<boolean> {
    const buffer = new Uint8Array(16 * 1024);
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return false;
    const joined = new Uint8Array(pending.length + n);
    joined.set(pending);
    joined.set(buffer.subarray(0, n), pending.length);
    pending = joined;
    return true;
  }
  return {
    conn,
    send: (text: string) => conn.write(encoder.encode(text)),
    /** The next response as `{status, body}`, or null when the server closed the connection. */
    async response(): Promise<{ status: number; body: string } | null> {
      for (;;) {
        const text = decoder.decode(pending);
        const end = text.indexOf("\r\n\r\n");
        if (end >= 0) {
          const head = text.slice(0, end);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length >= end + 4 + length) {
            const body = text.slice(end + 4, end + 4 + length);
            pending = pending.subarray(end + 4 + length);
            return { status: Number(head.split(" ")[1]), body };
          }
        }
        if (!await readMore()) return null;
      }
    },
    /** Resolves when the server closes the connection (reading and dropping any bytes). */
    async closedByServer(): Promise<void> {
      while (await readMore()) pending = new Uint8Array(0);
    },
    [Symbol.dispose]() {
      try {
        conn.close();
      } catch { /* closed already */ }
    },
  };
}

const echo = async (request: Request) =>
  new Response(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`);

Deno.test("the guard serves GET, fixed-length and chunked POSTs over one keep-alive connection", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    echo,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  assert.equal(await (await fetch(`${base}/a`)).text(), "GET /a ");
  assert.equal(
    await (await fetch(`${base}/b`, { method: "POST", body: "x".repeat(100_000) })).text(),
    `POST /b ${"x".repeat(100_000)}`,
  );
  const chunked = ReadableStream.from(["one ", "two ", "three"].map((s) => encoder.encode(s)));
  assert.equal(
    await (await fetch(`${base}/c`, { method: "POST", body: chunked })).text(),
    "POST /c one two three",
  );
});

Deno.test("the guard passes pipelined requests in one write through in order", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    echo,
  );
  using client = await rawConnect(server.addr.port);
  await client.send(
    "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
      "POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nde\r\n0\r\n\r\n" +
      "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  assert.equal((await client.response())?.body, "POST /1 abc");
  assert.equal((await client.response())?.body, "POST /2 de");
  assert.equal((await client.response())?.body, "GET /3 ");
});

Deno.test("the guard closes a connection that does not finish its request head in time", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger(), headersTimeoutMs: 200 },
    echo,
  );
  using silent = await rawConnect(server.addr.port);
  using slow = await rawConnect(server.addr.port);
  await slow.send("GET / HTTP/1.1\r\nHost: a\r\n");
  await Promise.all([silent.closedByServer(), slow.closedByServer()]);
  assert.equal(server.connectionCount, 0);
  using prompt = await rawConnect(server.addr.port);
  await prompt.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await prompt.response())?.status, 200);
});

Deno.test("an idle keep-alive connection is closed; one waiting on its response or an open event stream is not", async () => {
  const release = Promise.withResolvers<void>();
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger(), idleTimeoutMs: 200 },
    async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/slow") await release.promise;
      if (path === "/events") {
        const body = ReadableStream.from((async function* () {
          await release.promise;
          yield encoder.encode("data: late\n\n");
        })());
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      return new Response(path);
    },
  );
  using idle = await rawConnect(server.addr.port);
  using busy = await rawConnect(server.addr.port);
  await idle.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await idle.response())?.body, "/fast");
  await busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  const events = await fetch(`http://127.0.0.1:${server.addr.port}/events`);
  await idle.closedByServer();
  // The idle one was closed after its timeout; the others outlived it and still answer.
  release.resolve();
  assert.equal((await busy.response())?.body, "/slow");
  assert.equal(await events.text(), "data: late\n\n");
});

Deno.test("at the cap a new connection closes the oldest without a complete head, else is refused 503", async () => {
  const release = Promise.withResolvers<void>();
  const held = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
  let holding = 0;
  const lines: string[] = [];
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger(lines), maxConnections: 2 },
    async (request) => {
      if (new URL(request.url).pathname === "/hold") {
        held[holding++].resolve();
        await release.promise;
      }
      return new Response("ok");
    },
  );
  using halfOpen = await rawConnect(server.addr.port);
  await halfOpen.send("GET / HTTP/1.1\r\n");
  using holder = await rawConnect(server.addr.port);
  await holder.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
  await held[0].promise;
  using legit = await rawConnect(server.addr.port);
  await legit.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await halfOpen.closedByServer();
  assert.equal((await legit.response())?.status, 200);
  // legit is now idle, holder busy: the next connection closes legit.
  using second = await rawConnect(server.addr.port);
  await second.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
  await Promise.all([legit.closedByServer(), held[1].promise]);
  // Both held connections are busy: a third is refused.
  using refused = await rawConnect(server.addr.port);
  assert.equal((await refused.response())?.status, 503);
  release.resolve();
  assert.equal((await holder.response())?.status, 200);
  assert.equal((await second.response())?.status, 200);
  assert.ok(lines.some((line) => line.includes("connection limit")));
});

Deno.test("the guard refuses HTTP/2, broken framing and unsafe Host headers with 400", async () => {
  await using server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    echo,
  );
  for (
    const head of [
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: evil.example@127.0.0.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: 127.0.0.1/x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET @evil.example/ HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n folded: line\r\n\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
    ]
  ) {
    using client = await rawConnect(server.addr.port);
    await client.send(head);
    assert.equal((await client.response())?.status, 400, head);
  }
});

Deno.test("shutdown closes every connection and stops listening", async () => {
  const server = await serveWithConnectionGuard(
    { hostname: "127.0.0.1", port: 0, logger: quietLogger() },
    echo,
  );
  using idle = await rawConnect(server.addr.port);
  await idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await idle.response();
  using halfOpen = await rawConnect(server.addr.port);
  await halfOpen.send("GET / HTTP/1.1\r\n");
  await server.shutdown();
  await Promise.all([idle.closedByServer(), halfOpen.closedByServer(), server.finished]);
  assert.equal(server.connectionCount, 0);
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("RequestFramer finds heads and decoded bodies however the bytes are split", () => {
  const stream = encoder.encode(
    "\r\nPOST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" +
      "POST /b HTTP/1.1\nTransfer-Encoding: chunked\n\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n" +
      "GET /c HTTP/1.0\r\n\r\n",
  );
  for (const size of [1, 2, 3, 7, stream.length]) {
    const framer = new RequestFramer();
    const heads: string[] = [];
    let body = "";
    for (let start = 0; start < stream.length; start += size) {
      const chunk = stream.subarray(start, Math.min(stream.length, start + size));
      let offset = 0;
      while (offset < chunk.length) {
        const end = framer.consume(chunk, offset, chunk.length);
        assert.notEqual(framer.framing, "error", framer.error);
        if (framer.framing === "head") heads.push(decoder.decode(framer.head).trim().split(" ")[1]);
        if (framer.framing === "body") body += decoder.decode(chunk.subarray(offset, end));
        offset = end;
      }
    }
    assert.deepEqual(heads, ["/a", "/b", "/c"], `chunk size ${size}`);
    assert.equal(body, "helloabc", `chunk size ${size}`);
    assert.equal(framer.inHead || framer.inBody, false);
  }
});

Deno.test("RequestFramer refuses a head larger than its limit", () => {
  const framer = new RequestFramer({ maxHeadBytes: 64 });
  const chunk = encoder.encode(`GET / HTTP/1.1\r\nX: ${"a".repeat(100)}`);
  framer.consume(chunk, 0, chunk.length);
  assert.equal(framer.framing, "error");
  assert.equal(framer.errorStatus, 431);
});
