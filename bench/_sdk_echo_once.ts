/**
 * The code-mode baseline (row group 7a): the program a user would write without toolscript.
 * `deno run` of this file connects the MCP SDK client straight to the echo upstream at argv[0],
 * calls `echo` once, prints the text (`echo: ping`) and exits.
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

if (import.meta.main) {
  const client = new Client({ name: "toolscript-bench-baseline", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(Deno.args[0])));
  const result = await client.callTool({ name: "echo", arguments: { text: "ping" } }) as {
    content: { text?: string }[];
  };
  console.log(result.content.map((c) => c.text ?? "").join(""));
  await client.close();
}
