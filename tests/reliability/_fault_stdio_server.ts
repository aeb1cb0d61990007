/**
 * A stdio MCP server that misbehaves on request, for the fault specs. Tools:
 *
 * - `echo` (`{text}`): answers `echo: <text>`, to show the server still works.
 * - `big` (`{bytes}`): answers a text block of `bytes` characters (one huge stdout line).
 * - `half`: writes half a JSON-RPC response line to stdout, then exits.
 * - `crash_loudly`: prints the value of `$FAULT_API_TOKEN` on stderr, then exits with code 1
 *   (an upstream that puts its own secret into the gateway's error text).
 *
 * Run: `deno run -A tests/reliability/_fault_stdio_server.ts`; specs use {@link faultStdioServer}.
 */
import { scriptCommand } from "../fixtures/_script_command.ts";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

/** The environment variable whose value `crash_loudly` prints on stderr. */
export const FAULT_TOKEN_VARIABLE = "FAULT_API_TOKEN";

/** A `stdio` server config entry (command and args) that runs this script. */
export function faultStdioServer(): { command: string; args: string[] } {
  return scriptCommand(import.meta.url);
}

async function main(): Promise<void> {
  const server = new McpServer({ name: "fault-stdio", version: "1.0.0" });
  const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });
  server.registerTool(
    "echo",
    { description: "Echoes the text.", inputSchema: { text: z.string() } },
    ({ text: value }) => text(`echo: ${value}`),
  );
  server.registerTool(
    "big",
    { description: "Answers `bytes` characters.", inputSchema: { bytes: z.number() } },
    ({ bytes }) => text("x".repeat(bytes)),
  );
  server.registerTool(
    "half",
    { description: "Writes half an answer, then exits.", inputSchema: {} },
    () => {
      Deno.stdout.writeSync(new TextEncoder().encode('{"jsonrpc":"2.0","id":'));
      Deno.exit(0);
    },
  );
  server.registerTool(
    "crash_loudly",
    { description: "Prints its token on stderr, then exits.", inputSchema: {} },
    () => {
      console.error(`fatal: token ${Deno.env.get(FAULT_TOKEN_VARIABLE)} was rejected`);
      Deno.exit(1);
    },
  );
  await server.connect(new StdioServerTransport());
}

if (import.meta.main) {
  await main();
}
