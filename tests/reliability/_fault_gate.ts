/**
 * Fault injection for the streamable HTTP fixture (its `gate` option): a `tools/call` of one of
 * the tools named below gets a broken answer instead of reaching the MCP server.
 */

/** Size of the oversized HTTP answer (`big`): 20 MiB of text. */
export const BIG_BYTES = 20 * 1024 * 1024;

/**
 * The tools {@link faultGate} intercepts. The fixture must list them (`addTool`): the gateway
 * only calls tools a server lists.
 */
export const FAULT_TOOLS: readonly string[] = [
  "big",
  "sse_cut",
  "json_cut",
  "reset",
  "status_502",
  "reflect",
];

/**
 * The `web` fixture's fault injection, keyed by the called tool's name: `big` (20 MiB JSON
 * answer), `sse_cut` (an event stream that ends before the answer), `json_cut` (a JSON answer
 * cut in half), `reset` (the connection dies mid-body), `status_502` (HTTP 502, a body without
 * the number) and `reflect` (HTTP 500 whose body repeats the request's credential headers).
 */
export async function faultGate(request: Request): Promise<Response | undefined> {
  if (request.method !== "POST") return undefined;
  const message = await request.clone().json().catch(() => undefined) as
    | { id?: number; method?: string; params?: { name?: string } }
    | undefined;
  if (message?.method !== "tools/call") return undefined;
  const id = message.id;
  switch (message.params?.name) {
    case "big":
      return Response.json({
        jsonrpc: "2.0",
        id,
        result: { content: [{ type: "text", text: "x".repeat(BIG_BYTES) }] },
      });
    case "sse_cut":
      return new Response(": opening\n\n", { headers: { "content-type": "text/event-stream" } });
    case "json_cut":
      return new Response(`{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"te`, {
        headers: { "content-type": "application/json" },
      });
    case "reset":
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(`{"jsonrpc":"2.0","id":${id},`));
            controller.error(new Error("connection reset by the fixture"));
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    case "status_502":
      return new Response("bad gateway, try later", { status: 502 });
    case "reflect":
      return new Response(
        `internal error; request had x-upstream-token=${request.headers.get("x-upstream-token")}` +
          ` and x-api-key=${request.headers.get("x-api-key")}`,
        { status: 500 },
      );
  }
  return undefined;
}
