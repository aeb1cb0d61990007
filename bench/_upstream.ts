/**
 * The echo upstream as its own process: the SDK streamable HTTP fixture on 127.0.0.1, so the
 * benchmark's client, the gateway and the upstream each get their own event loop.
 * Prints `UPSTREAM_URL=<url>` when listening; stops on SIGTERM or when stdin closes.
 */
import { startHttpMcpServer } from "../tests/fixtures/http_server.ts";

if (import.meta.main) {
  const server = await startHttpMcpServer({ name: "echo" });
  // The fixture logs every request for specs; a benchmark's millions would only grow the heap.
  const trim = setInterval(() => server.requests.splice(0), 1000);
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", () => stop.resolve());
  (async () => {
    for await (const _chunk of Deno.stdin.readable) { /* wait for EOF */ }
    stop.resolve();
  })();
  console.log(`UPSTREAM_URL=${server.url}`);
  await stop.promise;
  clearInterval(trim);
  await server.close();
  Deno.exit(0);
}
