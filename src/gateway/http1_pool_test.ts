import assert from "node:assert/strict";
import { Http1Pool } from "./http1_pool.ts";
import { writeAll } from "../write_all.ts";
import { byteChunks } from "./byte_pipes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** One character per byte, so the raw server counts `Content-Length` in bytes. */
const latin1 = new TextDecoder("latin1");

/** A request as the raw server read it. */
interface SeenRequest {
  head: string;
  body: string;
  connection: number;
}

/**
 * A real HTTP/1.1 server on loopback whose answers the test writes as raw bytes: `respond`
 * gets each request (head and `Content-Length` body) and the connection to write to.
 */
function rawServer(respond: (request: SeenRequest, conn: Deno.Conn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: SeenRequest[] = [];
  const conns = new Set<Deno.Conn>();
  let connections = 0;
  const closed = Promise.withResolvers<void>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const id = ++connections;
      (async () => {
        let buffered = "";
        const buffer = new Uint8Array(65536);
        try {
          for (;;) {
            let end;
            while ((end = buffered.indexOf("\r\n\r\n")) < 0) {
              const n = await conn.read(buffer);
              if (n === null) return;
              buffered += latin1.decode(buffer.subarray(0, n));
            }
            const head = buffered.slice(0, end);
            const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
            while (buffered.length < end + 4 + length) {
              const n = await conn.read(buffer);
              if (n === null) return;
              buffered += latin1.decode(buffer.subarray(0, n));
            }
            const raw = buffered.slice(end + 4, end + 4 + length);
            const body = decoder.decode(Uint8Array.from(raw, (c) => c.charCodeAt(0)));
            const request = { head, body, connection: id };
            buffered = buffered.slice(end + 4 + length);
            seen.push(request);
            await respond(request, conn);
          }
        } catch {
          /* the client went away */
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed by the test */ }
          if (conns.size === 0) closed.resolve();
        }
      })();
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    get connections() {
      return connections;
    },
    /** Resolves once no connection to the server is open. */
    allClosed: () => conns.size === 0 ? Promise.resolve() : closed.promise,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await serving.catch(() => {});
    },
  };
}

const write = (conn: Deno.Conn, text: string) => writeAll(conn, encoder.encode(text));

const refusingFallback: typeof fetch = () => Promise.reject(new Error("fallback used"));

/** Resolves as `promise`, or fails the test after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (bounded) until `done()` holds, one macrotask at a time. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(done(), what);
}

Deno.test("Http1Pool sends the request as fetch would, and reuses the connection", async () => {
  await using server = rawServer(async (request, conn) => {
    const body = JSON.stringify({ echo: request.body });
    await write(
      conn,
      `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-one: 1\r\ncontent-length: ${
        encoder.encode(body).length
      }\r\n\r\n${body}`,
    );
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  for (const text of ["first", "second ü"]) {
    const response = await pool.fetch(`${server.url}?a=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-Custom": "v" },
      body: text,
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-one"), "1");
    assert.deepEqual(await response.json(), { echo: text });
  }
  assert.equal(server.connections, 1);
  const [first, second] = server.seen;
  assert.equal(second.connection, first.connection);
  const lines = first.head.split("\r\n");
  assert.equal(lines[0], "POST /mcp?a=1 HTTP/1.1");
  assert.ok(lines.includes(`host: ${new URL(server.url).host}`), first.head);
  assert.ok(lines.includes("content-length: 5"), first.head);
  assert.ok(lines.includes("x-Custom: v"), first.head);
  assert.ok(lines.some((l) => /^user-agent: Deno\//.test(l)), first.head);
  assert.ok(!/transfer-encoding/i.test(first.head));
  assert.equal(second.body, "second ü");
});

Deno.test("Http1Pool streams a chunked event stream as it arrives, then reuses the connection", async () => {
  const more = Promise.withResolvers<void>();
  await using server = rawServer(async (request, conn) => {
    if (request.body === "stream") {
      await write(
        conn,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
          "c\r\ndata: first\n\r\n",
      );
      await more.promise; // the client must see the first event before the rest is sent
      await write(conn, "d\r\ndata: second\n\r\n0\r\nx-trailer: t\r\n\r\n");
    } else {
      await write(conn, "HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  const response = await pool.fetch(server.url, { method: "POST", body: "stream" });
  const reader = response.body!.getReader();
  const first = await within(reader.read(), 5_000, "the first event before the rest is sent");
  assert.equal(decoder.decode(first.value), "data: first\n");
  more.resolve();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest += decoder.decode(r.value);
  }
  assert.equal(rest, "data: second\n");
  const after = await pool.fetch(server.url, { method: "POST", body: "x" });
  assert.equal(after.status, 204);
  assert.equal(after.body, null);
  assert.equal(server.connections, 1);
});

Deno.test("Http1Pool reads a body to the close, and does not reuse that connection", async () => {
  await using server = rawServer(async (_request, conn) => {
    await write(conn, "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end");
    conn.close();
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  assert.equal(await (await pool.fetch(server.url)).text(), "until the end");
  assert.equal(await (await pool.fetch(server.url)).text(), "until the end");
  assert.equal(server.connections, 2);
});

Deno.test("Http1Pool does not reuse a connection the server asked to close, nor one it closed while idle", async () => {
  let answers = 0;
  await using server = rawServer(async (_request, conn) => {
    answers++;
    const close = answers === 1 ? "connection: close\r\n" : "";
    await write(conn, `HTTP/1.1 200 OK\r\n${close}content-length: 2\r\n\r\nok`);
    if (answers === 2) conn.close(); // closed after a keep-alive answer: idle in the pool
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  assert.equal(await (await pool.fetch(server.url)).text(), "ok");
  assert.equal(await (await pool.fetch(server.url)).text(), "ok");
  await until(
    () => pool.openConnections === 0,
    "the pool dropped the connection closed while idle",
  );
  assert.equal(await (await pool.fetch(server.url)).text(), "ok");
  assert.equal(server.connections, 3);
});

Deno.test("Http1Pool: an abort ends the wait for the head, and a body being read, and closes the connection", async () => {
  const hang = Promise.withResolvers<void>();
  await using server = rawServer(async (request, conn) => {
    if (request.body === "body") {
      await write(conn, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n");
    }
    await hang.promise;
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  const reason = new Error("cancelled by the test");
  const beforeHead = new AbortController();
  const waiting = pool.fetch(server.url, {
    method: "POST",
    body: "head",
    signal: beforeHead.signal,
  });
  await until(() => server.seen.length === 1, "the server got the request");
  beforeHead.abort(reason);
  await assert.rejects(within(waiting, 5_000, "the abort"), (error) => error === reason);

  const inBody = new AbortController();
  const response = await pool.fetch(server.url, {
    method: "POST",
    body: "body",
    signal: inBody.signal,
  });
  const reader = response.body!.getReader();
  assert.equal(decoder.decode((await reader.read()).value), "hi");
  inBody.abort(reason);
  await assert.rejects(within(reader.read(), 5_000, "the abort"), (error) => error === reason);
  assert.equal(pool.openConnections, 0);
  // The server sees both connections end once it reads again.
  hang.resolve();
  await within(server.allClosed(), 5_000, "the pool closed both aborted connections");
});

Deno.test("Http1Pool fails with a TypeError on a broken response, and drops the connection", async () => {
  const answers = [
    "HTTP/1.1 2OO OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
  ];
  let next = 0;
  await using server = rawServer(async (_request, conn) => {
    await write(conn, answers[next++]);
    conn.close();
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  await assert.rejects(pool.fetch(server.url), TypeError);
  await assert.rejects(pool.fetch(server.url), /Content-Length/);
  const chunked = await pool.fetch(server.url);
  await assert.rejects(chunked.text(), /chunk size/);
  const short = await pool.fetch(server.url);
  await assert.rejects(short.text(), /closed inside the body/);
  assert.equal(pool.openConnections, 0);
});

Deno.test("Http1Pool skips interim 1xx answers", async () => {
  await using server = rawServer(async (_request, conn) => {
    await write(conn, "HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n");
    await write(conn, "HTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nnew");
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  const response = await pool.fetch(server.url, { method: "POST", body: "" });
  assert.equal(response.status, 201);
  assert.equal(await response.text(), "new");
});

Deno.test("Http1Pool refuses a header that would split the request, and sends nothing", async () => {
  await using server = rawServer(async () => {});
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  await assert.rejects(
    pool.fetch(server.url, { headers: { "x-a": "1\r\nx-injected: yes" } }),
    TypeError,
  );
  assert.equal(server.connections, 0);
});

Deno.test("Http1Pool hands what it does not do to the fallback fetch, unchanged", async () => {
  let redirected = 0;
  await using server = rawServer(async (_request, conn) => {
    redirected++;
    await write(
      conn,
      "HTTP/1.1 307 Temporary Redirect\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n",
    );
  });
  const handed: string[] = [];
  const fallback: typeof fetch = (input) => {
    handed.push(String(input instanceof Request ? input.url : input));
    return Promise.resolve(new Response("from the fallback"));
  };
  using pool = new Http1Pool({ fallback, env: () => undefined });
  await pool.fetch("https://example.invalid/mcp");
  await pool.fetch(server.url, { method: "PUT", body: "x" });
  await pool.fetch(server.url, { method: "POST", body: new Blob(["x"]) });
  await pool.fetch(new Request(server.url));
  // A redirect to follow is the fallback's; a manual one is returned as it is.
  assert.equal(await (await pool.fetch(server.url)).text(), "from the fallback");
  const manual = await pool.fetch(server.url, { redirect: "manual" });
  assert.equal(manual.status, 307);
  assert.equal(manual.headers.get("location"), "/elsewhere");
  assert.equal(redirected, 2);
  assert.equal(handed.length, 5);

  using proxied = new Http1Pool({
    fallback,
    env: (name) => name === "HTTP_PROXY" ? "http://127.0.0.1:9" : undefined,
  });
  await proxied.fetch(server.url);
  assert.equal(handed.length, 6);

  pool.close();
  await pool.fetch(server.url);
  assert.equal(handed.length, 7);
  assert.equal(pool.openConnections, 0);
});

Deno.test("Http1Pool: a BYOB reader (the transport's) reads a streamed body to its end", async () => {
  const more = Promise.withResolvers<void>();
  await using server = rawServer(async (_request, conn) => {
    await write(
      conn,
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
        "5\r\nfirst\r\n",
    );
    await more.promise;
    await write(conn, "6\r\nsecond\r\n0\r\n\r\n");
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  const response = await pool.fetch(server.url, { method: "POST", body: "" });
  const read: string[] = [];
  const reading = (async () => {
    for await (const chunk of byteChunks(response.body!)) {
      read.push(decoder.decode(chunk));
      more.resolve();
    }
  })();
  await within(reading, 5_000, "the end of the body reaches the BYOB reader");
  assert.deepEqual(read, ["first", "second"]);
});

Deno.test("Http1Pool: a chunked body already read whole (a 202's empty one) frees its connection at once", async () => {
  await using server = rawServer(async (request, conn) => {
    const body = request.body === "empty"
      ? "0\r\n\r\n"
      : "3\r\nabc\r\n2\r\nde\r\n0\r\nx-t: 1\r\n\r\n";
    const status = request.body === "empty" ? "202 Accepted" : "200 OK";
    await write(conn, `HTTP/1.1 ${status}\r\ntransfer-encoding: chunked\r\n\r\n${body}`);
  });
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  // The body is never read, as the SDK leaves a 202's: the connection is free anyway.
  const accepted = await pool.fetch(server.url, { method: "POST", body: "empty" });
  assert.equal(accepted.status, 202);
  const whole = await pool.fetch(server.url, { method: "POST", body: "whole" });
  assert.equal(await whole.text(), "abcde");
  assert.equal(server.connections, 1);
});

Deno.test("Http1Pool: a refused connection is a TypeError naming the origin, as fetch's", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close(); // nothing listens there now
  using pool = new Http1Pool({ fallback: refusingFallback, env: () => undefined });
  await assert.rejects(
    pool.fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", body: "{}" }),
    (error) => error instanceof TypeError && error.message.includes(`127.0.0.1:${port}`),
  );
  assert.equal(pool.openConnections, 0);
});
