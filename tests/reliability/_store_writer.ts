/**
 * Child process of the token store reliability specs.
 *
 * `grow <dir> <count>`: saves `count` ever larger documents for server "crash", printing
 * `saved <i>` after each. `increment <dir> <count>`: prints `ready`, waits for a line on
 * stdin, then `count` times takes the lock of server "counter", loads, increments
 * `tokens.accessToken` and saves; prints `done`.
 */
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import type { CredentialDocument } from "../../src/auth/store/token_store.ts";

/** The server URL of every document written here. */
export const SERVER_URL = "https://mcp.example/mcp";

/** The i-th document of `grow`: its size grows with i, so a torn write cannot parse as another. */
export function growingDocument(i: number): CredentialDocument {
  return {
    version: 1,
    server: "crash",
    serverUrl: SERVER_URL,
    tokens: { accessToken: `access-${i}`, expiresAt: i },
    discovery: { padding: "x".repeat(i * 2048) },
    updatedAt: i,
  };
}

async function grow(store: FileTokenStore, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await store.save(growingDocument(i));
    console.log(`saved ${i}`);
  }
}

async function increment(store: FileTokenStore, count: number): Promise<void> {
  console.log("ready");
  await Deno.stdin.read(new Uint8Array(16));
  for (let i = 0; i < count; i++) {
    await store.transaction("counter", async (tx) => {
      const doc = await tx.load(SERVER_URL);
      const n = Number(doc?.tokens?.accessToken ?? "0");
      await tx.save({
        version: 1,
        server: "counter",
        serverUrl: SERVER_URL,
        tokens: { accessToken: String(n + 1) },
        updatedAt: 0,
      });
    });
  }
  console.log("done");
}

if (import.meta.main) {
  const [mode, dir, count] = Deno.args;
  const store = new FileTokenStore({ dir, lockPollMs: 10 });
  if (mode === "grow") await grow(store, Number(count));
  else if (mode === "increment") await increment(store, Number(count));
  else throw new TypeError(`Unknown mode ${JSON.stringify(mode)}`);
}
