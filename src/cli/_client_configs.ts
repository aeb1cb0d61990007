/**
 * Other MCP clients' config files (Claude Code, Claude Desktop, Cursor, VS Code): where they
 * are on Linux and macOS, and how their server entries map to ours.
 */
import { basename, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { parseConfigJson, readConfigText } from "../config/load_config.ts";
import { isConfigFile } from "../config/find_config.ts";
import { isRecord } from "../config/is_record.ts";
import type { EnvLookup } from "../config/expand_vars.ts";

/** Clients `import` reads. */
export const CLIENTS = ["claude-code", "claude-desktop", "cursor", "vscode"] as const;

/** One of {@link CLIENTS}. */
export type Client = typeof CLIENTS[number];

/** Where a client's servers are: a file and how to pick the server table out of it. */
interface ClientSource {
  file: string;
  /** Shown after the file, e.g. `projects["/work/app"]`. */
  scope?: string;
  pick: (doc: Record<string, unknown>) => unknown;
}

/** Paths the lookup depends on. */
export interface ClientPaths {
  home: string;
  cwd: string;
  env: EnvLookup;
}

/**
 * A client's config files, most specific first (a name found twice is taken from the first):
 * Claude Code's local scope (`projects[<cwd>]` in `~/.claude.json`), project scope
 * (`./.mcp.json`) and user scope (top level of `~/.claude.json`); Claude Desktop on Linux
 * (`$XDG_CONFIG_HOME/Claude`, default `~/.config/Claude`) and macOS
 * (`~/Library/Application Support/Claude`); Cursor's project then global `mcp.json`; VS Code's
 * workspace `.vscode/mcp.json`.
 */
export function clientSources(client: Client, paths: ClientPaths): ClientSource[] {
  const { home, cwd } = paths;
  const servers = (key: string) => (doc: Record<string, unknown>) => doc[key];
  switch (client) {
    case "claude-code": {
      const user = join(home, ".claude.json");
      return [
        {
          file: user,
          scope: `projects[${JSON.stringify(cwd)}]`,
          pick: (doc) => {
            const projects = isRecord(doc.projects) ? doc.projects : {};
            const project = Object.hasOwn(projects, cwd) ? projects[cwd] : undefined;
            return isRecord(project) ? project.mcpServers : undefined;
          },
        },
        { file: resolve(cwd, ".mcp.json"), pick: servers("mcpServers") },
        { file: user, pick: servers("mcpServers") },
      ];
    }
    case "claude-desktop": {
      const xdg = paths.env("XDG_CONFIG_HOME");
      const configHome = xdg && isAbsolute(xdg) ? xdg : join(home, ".config");
      const name = "claude_desktop_config.json";
      return [
        { file: join(configHome, "Claude", name), pick: servers("mcpServers") },
        {
          file: join(home, "Library", "Application Support", "Claude", name),
          pick: servers("mcpServers"),
        },
      ];
    }
    case "cursor":
      return [
        { file: resolve(cwd, ".cursor", "mcp.json"), pick: servers("mcpServers") },
        { file: join(home, ".cursor", "mcp.json"), pick: servers("mcpServers") },
      ];
    case "vscode":
      return [{ file: resolve(cwd, ".vscode", "mcp.json"), pick: servers("servers") }];
  }
}

/** One server found in a client's config, mapped to our entry or refused. */
export interface ClientServer {
  name: string;
  /** `file` (and scope) it came from, for display. */
  from: string;
  /** Our entry; undefined when it cannot be mapped (`reason` says why). */
  entry?: Record<string, unknown>;
  reason?: string;
  /** Keys of theirs that have no counterpart here and were left out. */
  ignored: string[];
  /** VS Code inputs the entry used, as `[input id, our variable]`. */
  inputs: [string, string][];
}

/** What {@link readClientServers} found. */
export interface ClientServers {
  /** The files that exist, in lookup order. */
  files: string[];
  servers: ClientServer[];
}

/**
 * Reads every config file of `client` that exists and maps each server in it.
 *
 * @throws {ConfigError} when none of the client's files exists, or one is not valid JSON.
 */
export async function readClientServers(
  client: Client,
  paths: ClientPaths,
): Promise<ClientServers> {
  const sources = clientSources(client, paths);
  const files: string[] = [];
  const servers: ClientServer[] = [];
  const docs = new Map<string, Record<string, unknown>>();
  for (const source of sources) {
    let doc = docs.get(source.file);
    if (!doc) {
      if (!(await isConfigFile(source.file))) continue;
      const raw = parseConfigJson(await readConfigText(source.file), source.file);
      doc = isRecord(raw) ? raw : {};
      docs.set(source.file, doc);
      files.push(source.file);
    }
    const table = source.pick(doc);
    if (!isRecord(table)) continue;
    const from = source.scope ? `${source.file} ${source.scope}` : source.file;
    for (const [name, entry] of Object.entries(table)) {
      servers.push({ name, from, ...mapServer(entry, paths) });
    }
  }
  if (!files.length) {
    const places = [...new Set(sources.map((s) => `"${s.file}"`))].join(", ");
    throw new ConfigError(`No ${client} MCP config found; looked at ${places}`);
  }
  return { files, servers };
}

const KNOWN_KEYS = new Set([
  "type",
  "transport",
  "command",
  "args",
  "env",
  "cwd",
  "url",
  "headers",
  "disabled",
  "enabled",
]);

/** Maps one client entry to ours (pure). */
export function mapServer(
  raw: unknown,
  paths: Pick<ClientPaths, "home" | "cwd">,
): Omit<ClientServer, "name" | "from"> {
  const inputs: [string, string][] = [];
  const refuse = (reason: string) => ({ reason, ignored: [], inputs });
  if (!isRecord(raw)) return refuse("the entry is not an object");
  if (raw.envFile !== undefined) {
    return refuse('it uses "envFile", which toolscript does not read; move the variables to "env"');
  }
  const ignored = Object.keys(raw).filter((key) => !KNOWN_KEYS.has(key));
  const declared = raw.type ?? raw.transport;
  let type: string;
  if (declared === undefined) type = raw.command !== undefined ? "stdio" : "http";
  else if (declared === "streamable-http" || declared === "streamableHttp") type = "http";
  else if (declared === "stdio" || declared === "http" || declared === "sse") type = declared;
  else return refuse(`its type ${JSON.stringify(String(declared))} is not stdio, http or sse`);
  const keys = type === "stdio" ? ["command", "args", "env", "cwd"] : ["url", "headers"];
  const entry: Record<string, unknown> = { type };
  let unknownReference: string | undefined;
  const convert = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.replace(/\$\{([^}]*)\}/g, (reference, inner: string) => {
        const replaced = convertReference(inner, paths);
        if (replaced === undefined) {
          unknownReference ??= reference;
          return reference;
        }
        if (inner.startsWith("input:")) inputs.push([inner.slice(6), replaced.slice(2, -1)]);
        return replaced;
      });
    }
    if (Array.isArray(value)) return value.map(convert);
    if (isRecord(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
    }
    return value;
  };
  for (const key of keys) {
    if (raw[key] !== undefined) entry[key] = convert(raw[key]);
  }
  for (const key of type === "stdio" ? ["url", "headers"] : ["command", "args", "env", "cwd"]) {
    if (raw[key] !== undefined) ignored.push(key);
  }
  if (raw.disabled === true || raw.enabled === false) entry.enabled = false;
  if (unknownReference !== undefined) {
    return refuse(
      `it uses ${JSON.stringify(unknownReference)}, which toolscript cannot expand`,
    );
  }
  return { entry, ignored, inputs };
}

/**
 * Our form of the reference `${inner}`, or undefined for one we cannot expand:
 * `${VAR}` and `${VAR:-default}` stay; `${env:VAR}` becomes `${VAR}`; a VS Code input
 * `${input:api-key}` becomes `${API_KEY}`; `${userHome}`, `${workspaceFolder}` and
 * `${workspaceFolderBasename}` become the home directory, the working directory and its name.
 */
function convertReference(
  inner: string,
  paths: Pick<ClientPaths, "home" | "cwd">,
): string | undefined {
  if (/^[A-Za-z_][A-Za-z0-9_]*(:-.*)?$/s.test(inner)) {
    if (inner === "userHome") return paths.home;
    if (inner === "workspaceFolder") return paths.cwd;
    if (inner === "workspaceFolderBasename") return basename(paths.cwd);
    if (inner === "pathSeparator") return "/";
    return `\${${inner}}`;
  }
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner);
  if (env) return `\${${env[1]}}`;
  const input = /^input:(.+)$/s.exec(inner);
  if (input) return `\${${inputVariable(input[1])}}`;
  return undefined;
}

/** The variable a VS Code input becomes: `api-key` → `API_KEY`. */
export function inputVariable(id: string): string {
  const name = id.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}
