/**
 * Request smuggling and desync against the gateway's in-process HTTP/1.1 server: each spec
 * sends a framing a proxy in front (or the server itself) could read two ways, with a second
 * request hidden in it, over a raw loopback socket. The server must answer 400 and close, and
 * the hidden request must never reach the handler. Where hyper (`Deno.serve`) accepts a shape
 * and reads it one unambiguous way, the server may too (said per case).
 */
import assert from "node:assert/strict";
import { exchange, recordingServer, statuses } from "./_http1_attack.ts";

const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

/** Each case: a head and body that must be refused, with {@link SMUGGLED} after it. */
const REFUSED: Record<string, string> = {
  "Content-Length and Transfer-Encoding together":
    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "Transfer-Encoding then Content-Length":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
  "two differing Content-Length headers":
    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 36\r\n\r\n",
  "a comma-listed differing Content-Length":
    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 36\r\n\r\n",
  "a comma-listed Content-Length, even equal":
    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 0\r\n\r\n",
  "a negative Content-Length": "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
  "a Content-Length in hex": "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0x0\r\n\r\n",
  "a Content-Length past 2^53":
    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740993\r\n\r\n",
  "a Content-Length padded with NBSP":
    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: \xa00\r\n\r\n",
  "a Content-Length padded with a vertical tab":
    "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: \x0b0\r\n\r\n",
  "Transfer-Encoding: gzip, chunked":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
  "Transfer-Encoding: chunked, identity":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
  "Transfer-Encoding: xchunked":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
  "Transfer-Encoding: chunked twice":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "Transfer-Encoding with a vertical tab":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
  "Transfer-Encoding on HTTP/1.0":
    "POST /a HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "an obs-folded Transfer-Encoding":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
  "an obs-folded ordinary header": "POST /a HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
  "whitespace before the colon":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
  "a tab before the colon": "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length\t: 36\r\n\r\n",
  "a bare CR as a line end": "POST /a HTTP/1.1\r\nHost: a\rContent-Length: 36\r\n\r\n",
  "a NUL in a header name": "POST /a HTTP/1.1\r\nHost: a\r\nX\x00A: b\r\n\r\n",
  "a NUL in a header value": "POST /a HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n",
  "a control byte in a header value": "POST /a HTTP/1.1\r\nHost: a\r\nX-A: b\x01c\r\n\r\n",
  "DEL in a header value": "POST /a HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n",
  "a control byte in the target": "POST /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
  "a tab in the target (the URL parser would drop it)": "POST /mc\tp HTTP/1.1\r\nHost: a\r\n\r\n",
  "a chunk size past 2^53":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n20000000000001\r\n",
  "a chunk size of 2^64+1 (wraps in 64 bits)":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\n",
  "a negative chunk size":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n",
  "a 0x-prefixed chunk size":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n",
  "a chunk size with a leading space":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 1\r\nx\r\n0\r\n\r\n",
  "a CR inside a chunk size":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r0\r\nx\r\n0\r\n\r\n",
  "a chunk size line ended by a bare LF":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n",
  "a chunk extension with a bare LF":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a\nb\r\nx\r\n0\r\n\r\n",
  "a chunk extension with a NUL":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a\x00\r\nx\r\n0\r\n\r\n",
  "a chunk extension past 4 KiB":
    `POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;${
      "e".repeat(5000)
    }\r\nx\r\n0\r\n\r\n`,
  "chunk data longer than declared":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n",
  "chunk data followed by a bare LF":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n",
  "chunk data followed by CR CR LF":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\r\n0\r\n\r\n",
  "a missing chunk size":
    "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n;e\r\nx\r\n0\r\n\r\n",
  "HTTP/1.2": "GET /a HTTP/1.2\r\nHost: a\r\n\r\n",
  "HTTP/2 preface on the HTTP/1 port": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  "two spaces in the request line": "GET  /a HTTP/1.1\r\nHost: a\r\n\r\n",
  "a space inside the target": "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
  "a lower-case protocol name": "GET /a http/1.1\r\nHost: a\r\n\r\n",
};

for (const [name, attack] of Object.entries(REFUSED)) {
  Deno.test(`smuggling: ${name} is refused with 400 and the connection closed`, async () => {
    await using server = await recordingServer();
    const { text, timedOut } = await exchange(server.port, attack + SMUGGLED);
    assert.equal(timedOut, false, `the server kept the connection open: ${JSON.stringify(text)}`);
    assert.deepEqual(statuses(text), [400], JSON.stringify(text));
    assert.match(text, /connection: close/i);
    // A head that is refused never reaches the handler; a chunked body that breaks later may
    // have (its handler then saw the body fail), but the hidden request never does.
    const paths = server.seen.map((r) => r.path);
    if (/chunk/i.test(name) && !/Transfer-Encoding/.test(name)) assert.ok(paths.length <= 1);
    else assert.deepEqual(paths, [], "a refused request reached the handler");
    assert.ok(!paths.includes("/smuggled"), "the hidden request was served");
  });
}

Deno.test("smuggling: what hyper also reads one way is served, and the next request stays separate", async () => {
  await using server = await recordingServer();
  const accepted = [
    // Equal duplicate Content-Length (RFC 9112 §6.3 lets a recipient take it as one).
    "POST /dup HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    // Case and surrounding whitespace of `chunked`; a chunk extension; an upper-case hex size.
    'POST /te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  CHUNKED \r\n\r\nA;name="v"\r\n0123456789\r\n0\r\n\r\n',
    // Trailers are read and dropped: even framing fields there change nothing.
    "POST /tr HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nContent-Length: 40\r\nHost: evil\r\n\r\n",
    // Bare LF ending head lines (hyper, and RFC 9112 §2.2, accept it).
    "POST /lf HTTP/1.1\nHost: a\nContent-Length: 1\n\nz",
    "GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  ];
  const { text } = await exchange(server.port, accepted.join(""));
  assert.deepEqual(statuses(text), [200, 200, 200, 200, 200], text);
  assert.deepEqual(
    server.seen.map((r) => `${r.method} ${r.path} ${r.body}`),
    ["POST /dup ok", "POST /te 0123456789", "POST /tr hi", "POST /lf z", "GET /last "],
  );
});

Deno.test("smuggling: chunk data split across reads at every boundary decodes the same", async () => {
  await using server = await recordingServer();
  const request =
    "POST /split HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
    "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  // One byte per write: every CR, LF and size digit lands at a read boundary somewhere.
  const { text } = await exchange(server.port, [...request].map((c) => c));
  assert.deepEqual(statuses(text), [200], text);
  assert.deepEqual(server.seen.map((r) => r.body), ["abcde"]);
});
