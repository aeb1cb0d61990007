/**
 * Run with `--v8-flags=--expose-gc`: answers requests through the gateway's HTTP handler, then
 * collects garbage and prints how many of the answered `Response`s are still reachable (JSON
 * `{ "answered": N, "alive": M }` on stdout). The handler must keep nothing of an answered
 * request.
 */
import { Logger } from "../../src/log.ts";
import type { Config } from "../../src/config/types.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createGatewayHandler } from "../../src/gateway/http_endpoint.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const config: Config = {
  source: "flag",
  gateway: { host: "127.0.0.1", port: 0 },
  servers: [],
  secrets: [],
};
await using gateway = new Gateway(config, { logger: new Logger({ level: "error" }) });
await using handler = createGatewayHandler(gateway);
const answered: WeakRef<Response>[] = [];
for (let i = 0; i < 200; i++) {
  const response = await handler.handle(new Request("http://127.0.0.1/health"));
  await response.arrayBuffer();
  answered.push(new WeakRef(response));
}
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));
await nextTask();
gc();
await nextTask();
gc();
const alive = answered.filter((ref) => ref.deref() !== undefined).length;
console.log(JSON.stringify({ answered: answered.length, alive }));
