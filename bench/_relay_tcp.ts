/**
 * The floor of an HTTP hop for bench group `1d`: a byte relay that pipes each TCP connection
 * to a new connection to the upstream (`deno run bench/_relay_tcp.ts <upstream url>`), parsing
 * nothing. Prints `RELAY_URL=<url>` once it listens.
 */
import { writeAll } from "../src/write_all.ts";

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
      await writeAll(to, buffer.subarray(0, n));
    }
    await to.closeWrite();
  } catch { /* either side went away */ }
}

if (import.meta.main) {
  const upstream = new URL(Deno.args[0]);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  console.log(`RELAY_URL=http://127.0.0.1:${port}${upstream.pathname}`);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    (async () => {
      const up = await Deno.connect({ hostname: upstream.hostname, port: Number(upstream.port) });
      up.setNoDelay(true);
      await Promise.all([pump(conn, up), pump(up, conn)]);
      for (const c of [conn, up]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    })().catch(() => conn.close());
  }
}
