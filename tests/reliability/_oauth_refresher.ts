/**
 * Child script for the two-process refresh race: forces `count` refreshes of one server's
 * stored OAuth credentials by moving its own clock past each token's expiry, printing
 * `ok <i>` or `error <name> <code>` per round and `done` at the end. Waits for `go` on stdin.
 *
 * Usage: deno run -A _oauth_refresher.ts <credentials dir> <server url> <count>
 */
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { remoteServerConfig } from "../_helpers.ts";

const [dir, url, countText] = Deno.args;
const HOUR = 3600_000;
let offset = 0;
const store = new FileTokenStore({ dir });
const server = remoteServerConfig(url, { auth: { type: "oauth" } });
const provider = new OAuthCredentialProvider(server, {
  store,
  now: () => Date.now() + offset,
});
const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
for (let line = ""; !line.includes("go");) {
  const { value, done } = await reader.read();
  if (done) throw new Error("stdin closed before go");
  line += value;
}
for (let i = 0; i < Number(countText); i++) {
  offset += 2 * HOUR; // every stored token (1 h lifetime) is now expired for this process
  try {
    const headers = await provider.headers();
    console.log(headers.Authorization?.startsWith("Bearer ") ? `ok ${i}` : `error none ${i}`);
  } catch (error) {
    const e = error as { name?: string; code?: string };
    console.log(`error ${e.name} ${e.code}`);
  }
}
console.log("done");
await reader.cancel();
