/**
 * The Host header and request targets against a real gateway (its Host/Origin allow-lists read
 * `request.url`), response splitting, `Expect: 100-continue`, HEAD and half-closed clients,
 * over raw loopback bytes.
 */
import assert from "node:assert/strict";
import { spawnTokenGateway } from "../_helpers.ts";
import { exchange, recordingServer, statuses } from "./_http1_attack.ts";

const TOKEN = `canary-http1-host-${crypto.randomUUID()}`;

const startGateway = () => spawnTokenGateway(TOKEN);

Deno.test("host: no Host header, two, or one with userinfo or junk cannot pass the Host allow-list", async () => {
  await using gateway = await startGateway();
  const p = gateway.port;
  const auth = `Authorization: Bearer ${TOKEN}\r\nConnection: close\r\n`;
  const cases: Array<[string, string, number]> = [
    [
      "a normal loopback Host is served",
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n${auth}\r\n`,
      200,
    ],
    [
      "an IPv6 loopback Host is served",
      `GET /health HTTP/1.1\r\nHost: [::1]:${p}\r\n${auth}\r\n`,
      200,
    ],
    ["no Host on HTTP/1.1", `GET /health HTTP/1.1\r\n${auth}\r\n`, 400],
    [
      "two Host headers (loopback first)",
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nHost: evil.example\r\n${auth}\r\n`,
      400,
    ],
    [
      "two Host headers (foreign first)",
      `GET /health HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1:${p}\r\n${auth}\r\n`,
      400,
    ],
    [
      "a Host with userinfo",
      `GET /health HTTP/1.1\r\nHost: evil.example@127.0.0.1:${p}\r\n${auth}\r\n`,
      400,
    ],
    ["a Host with a path", `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${p}/x\r\n${auth}\r\n`, 400],
    ["a Host list", `GET /health HTTP/1.1\r\nHost: evil.example, 127.0.0.1\r\n${auth}\r\n`, 400],
    [
      "a Host with a space",
      `GET /health HTTP/1.1\r\nHost: evil.example 127.0.0.1\r\n${auth}\r\n`,
      400,
    ],
    ["an unbracketed IPv6 Host", `GET /health HTTP/1.1\r\nHost: ::1\r\n${auth}\r\n`, 400],
    ["a foreign Host", `GET /health HTTP/1.1\r\nHost: evil.example:${p}\r\n${auth}\r\n`, 403],
    [
      "a loopback-looking foreign name",
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n${auth}\r\n`,
      403,
    ],
    [
      "an absolute-form target naming loopback behind a foreign Host",
      `GET http://127.0.0.1:${p}/health HTTP/1.1\r\nHost: evil.example\r\n${auth}\r\n`,
      400,
    ],
    [
      "an absolute-form target naming a foreign host behind a loopback Host",
      `POST http://evil.example/mcp HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n${auth}Content-Length: 0\r\n\r\n`,
      400,
    ],
    [
      "an absolute-form target with userinfo",
      `GET http://evil.example@127.0.0.1:${p}/health HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n${auth}\r\n`,
      400,
    ],
    [
      "an absolute-form target that agrees with Host is served",
      `GET http://127.0.0.1:${p}/health HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n${auth}\r\n`,
      200,
    ],
    [
      "an authority-form target",
      `CONNECT 127.0.0.1:${p} HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n${auth}\r\n`,
      400,
    ],
  ];
  for (const [name, request, status] of cases) {
    const { text, timedOut } = await exchange(p, request);
    assert.equal(timedOut, false, name);
    assert.deepEqual(statuses(text), [status], `${name}: ${text}`);
    assert.ok(!text.includes(TOKEN), name);
  }
});

Deno.test("host: an HTTP/1.0 request without Host is named by the listening address, not by a guess", async () => {
  await using server = await recordingServer();
  const { text } = await exchange(server.port, "GET /old HTTP/1.0\r\n\r\n");
  assert.deepEqual(statuses(text), [200]);
  assert.equal(server.seen[0].host, `127.0.0.1:${server.port}`);
});

Deno.test("response splitting: CR, LF or NUL a handler reflects into a header never reaches the wire", async () => {
  // The Headers a handler builds refuse CR, LF and NUL, and characters past U+00FF (whose low
  // byte the writer would otherwise send): reflecting a client's bytes fails inside the handler,
  // and the guard answers its error instead of a split response.
  const reflected = [
    "a\r\nSet-Cookie: evil=1",
    "a\nx-injected: 1",
    "a\u010d\u010ax-injected: 1",
    "a\x00b",
  ];
  for (const value of reflected) {
    await using server = await recordingServer(
      {},
      () => new Response("ok", { headers: { "mcp-session-id": value } }),
    );
    const { text } = await exchange(
      server.port,
      "GET /s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert.deepEqual(statuses(text), [500], JSON.stringify(text));
    assert.doesNotMatch(text, /set-cookie|x-injected/i);
  }
});

Deno.test("Expect: 100-continue: the body follows the interim response; a refusal without reading closes", async () => {
  await using server = await recordingServer(
    {},
    (request) =>
      new URL(request.url).pathname === "/refuse" ? new Response("no", { status: 413 }) : undefined,
  );
  const ok = await exchange(server.port, [
    "POST /ok HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
    "hi",
  ]);
  // The 100 is sent only when the body has not arrived with the head (it may well have here).
  assert.equal(statuses(ok.text).at(-1), 200);
  assert.ok(statuses(ok.text).length <= 2);
  assert.match(ok.text, /POST \/ok hi$/);
  const refused = await exchange(
    server.port,
    "POST /refuse HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
  );
  assert.equal(refused.timedOut, false);
  assert.equal(statuses(refused.text).at(-1), 413);
  assert.match(refused.text, /connection: close/i);
});

Deno.test("HEAD: the head only, with the GET length, and a pipelined request after it is framed right", async () => {
  await using server = await recordingServer();
  const { text } = await exchange(
    server.port,
    "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  assert.deepEqual(statuses(text), [200, 200]);
  const [headResponse, rest] = text.split(/\r\n\r\n/, 2);
  assert.match(headResponse, /content-length: 8/); // "HEAD /h " is what a GET-like echo would send
  assert.match(rest, /^HTTP\/1\.1 200/, "the HEAD response carried a body");
  assert.match(text, /GET \/after $/);
});

Deno.test("half-close: a client that shuts its write side still gets its answer, then the connection closes", async () => {
  await using server = await recordingServer({}, async () => {
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    return new Response("late");
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(new TextEncoder().encode("GET /half HTTP/1.1\r\nHost: a\r\n\r\n"));
  await conn.closeWrite();
  const text = new TextDecoder().decode(await new Response(conn.readable).bytes());
  assert.deepEqual(statuses(text), [200]);
  assert.match(text, /late$/);
  assert.equal(server.server.connectionCount, 0);
});
