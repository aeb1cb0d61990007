/**
 * Group 9: the size of `tools/list` a client puts in its model's context, with `--expose tools`
 * (every upstream tool and its schema) and `--expose code` (the three code-mode tools), for the
 * default config (server-everything) and for server-everything + server-filesystem +
 * server-memory, all from npm. Tokens are approximated as bytes / 4. One measurement each: the
 * list is deterministic.
 */
import { join } from "node:path";
import type { BenchContext } from "./_context.ts";
import {
  childEnv,
  connectHttp,
  denoScript,
  MAIN_TS,
  REPO_ROOT,
  scratchDir,
  spawnReady,
} from "./_procs.ts";
import { type BenchRow, firstLine, unavailableRow } from "./_table.ts";

const GROUP = "9 tools/list size";
const VERSION = "2026.8.31";

function npxServer(name: string, extra: string[] = [], env?: Record<string, string>) {
  return {
    type: "stdio",
    command: "npx",
    args: ["-y", `@modelcontextprotocol/${name}@${VERSION}`, ...extra],
    ...(env ? { env } : {}),
    timeout: 120,
  };
}

/** What one `tools/list` answer weighs. */
interface ListSize {
  tools: number;
  bytes: number;
}

/** Starts the gateway on `config` with `--expose expose` and measures its `tools/list` result. */
async function measureList(config: string, home: string, expose: string): Promise<ListSize> {
  await using gateway = await spawnReady({
    ...denoScript(MAIN_TS, ["gateway", "--config", config, "--port", "0", "--expose", expose]),
    env: childEnv({ TOOLSCRIPT_HOME: home }),
    readyLine: /^TOOLSCRIPT_GATEWAY_URL=(\S+)$/,
    timeoutMs: 300_000,
  });
  await using client = await connectHttp(gateway.url);
  const result = await client.listTools();
  return {
    tools: result.tools.length,
    bytes: new TextEncoder().encode(JSON.stringify({ tools: result.tools })).length,
  };
}

/** Group 9. */
export async function benchToolsList(ctx: BenchContext): Promise<BenchRow[]> {
  await using dir = await scratchDir("tools-list");
  const files = join(dir.path, "files");
  await Deno.mkdir(files);
  const bigConfig = join(dir.path, "three_servers.json");
  await Deno.writeTextFile(
    bigConfig,
    JSON.stringify({
      mcpServers: {
        everything: npxServer("server-everything"),
        filesystem: npxServer("server-filesystem", [files]),
        memory: npxServer("server-memory", [], {
          MEMORY_FILE_PATH: join(dir.path, "memory.jsonl"),
        }),
      },
    }),
  );
  const configs = [
    { label: "default config", path: join(REPO_ROOT, "config", "toolscript.json") },
    { label: "everything + filesystem + memory", path: bigConfig },
  ];
  const rows: BenchRow[] = [];
  for (const { label, path } of configs) {
    ctx.progress(`tools/list size, ${label}`);
    try {
      const tools = await measureList(path, dir.path, "tools");
      const code = await measureList(path, dir.path, "code");
      const tokens = (size: ListSize) => Math.round(size.bytes / 4);
      rows.push({
        group: GROUP,
        measure: `${label}: bytes (≈ tokens = bytes/4)`,
        subject: `code ${code.bytes} B ≈ ${tokens(code)} tok, ${code.tools} tools`,
        baseline: `tools ${tools.bytes} B ≈ ${tokens(tools)} tok, ${tools.tools} tools`,
        ratio: code.bytes / tools.bytes,
        ideal: "≪ 1",
        raw: {
          codeBytes: code.bytes,
          codeTokens: tokens(code),
          codeTools: code.tools,
          toolsBytes: tools.bytes,
          toolsTokens: tokens(tools),
          toolsTools: tools.tools,
        },
      });
    } catch (error) {
      rows.push(unavailableRow(GROUP, `${label}: bytes`, "≪ 1", firstLine(error)));
    }
  }
  return rows;
}
