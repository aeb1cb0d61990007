/**
 * `toolscript trust [<path>]`: shows what a project config would run, reach and read, then
 * records its SHA-256 so that commands run where it is found may use it.
 */
import { join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { isConfigFile } from "../config/find_config.ts";
import { parseConfigJson, readConfigText } from "../config/load_config.ts";
import { toolscriptHome } from "../config/toolscript_home.ts";
import { trustConfig } from "../config/trusted_configs.ts";
import type { Config } from "../config/types.ts";
import { tokenOverrideVariable, validateConfig } from "../config/validate_config.ts";
import { isRecord } from "../config/is_record.ts";
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import type { CliIo } from "./cli_runtime.ts";
import { quoteForTerminal } from "./_terminal.ts";

/** Parsed `trust` arguments. */
export interface TrustArgs {
  /** The config to trust, as given (`<path>`, else `--config`); undefined: `./.toolscript.json`. */
  path?: string;
  config?: string;
  help: boolean;
}

/** Help text of `trust`. */
export const TRUST_HELP = `Usage: toolscript trust [<path>]

Shows what a project config would run and reach (each stdio server's command line, working
directory and environment variable names; every URL; the files and variables it reads), then
records the SHA-256 of its text in $TOOLSCRIPT_HOME/trusted.json.

A ./.toolscript.json found by the config lookup is used only once trusted, and only while it is
unchanged: after an edit, review and trust it again. A config named by --config or
$TOOLSCRIPT_CONFIG is yours and needs no trust.

Arguments:
  <path>   The config to trust (default: ./.toolscript.json)
${GLOBAL_HELP}`;

/** Parses `trust` arguments (pure). */
export function parseTrustArgs(argv: string[]): TrustArgs {
  const { positionals, global } = parseCommandArgs("trust", argv, {}, { min: 0, max: 1 });
  return { ...global, path: positionals[0] ?? global.config };
}

/**
 * Validates the config (it must load in this environment), prints what it would run and reach,
 * records it as trusted and prints `Trusted <path> (sha256 <hex>)`. Spawns and sends nothing.
 *
 * @throws {ConfigError} when the file is missing, unreadable or does not validate.
 */
export async function runTrust(args: TrustArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(TRUST_HELP + "\n");
    return 0;
  }
  const file = resolve(io.cwd, args.path ?? join(io.cwd, ".toolscript.json"));
  if (!(await isConfigFile(file))) {
    throw new ConfigError(
      "No config file to trust here; give the path of the config: toolscript trust <path>",
      { file },
    );
  }
  const text = await readConfigText(file);
  const raw = parseConfigJson(text, file);
  const config = validateConfig(raw, { file, source: "cwd", env: io.env });
  io.stdout(describeConfig(file, raw, config).join("\n") + "\n");
  const record = await trustConfig(file, text, {
    home: toolscriptHome(io.env, io.home),
    logger: io.logger,
    now: io.now,
  });
  io.stdout(`Trusted ${quoteForTerminal(record.file)} (sha256 ${record.sha256})\n`);
  return 0;
}

/**
 * The review lines: per server, its command line and working directory (stdio), every URL it
 * would reach, every file and environment variable it reads, and the `TOOLSCRIPT_TOKEN_<SERVER>`
 * it would send; then the same for the rest of the config. Values are shown as written in the
 * file (`${VAR}` unexpanded), so no secret from the environment is printed.
 */
export function describeConfig(file: string, raw: unknown, config: Config): string[] {
  const lines = [`Project config ${quoteForTerminal(file)} would:`];
  const doc = isRecord(raw) ? raw : {};
  const entries = isRecord(doc.mcpServers) ? doc.mcpServers : {};
  for (const server of config.servers) {
    const entry = isRecord(entries[server.name])
      ? entries[server.name] as Record<string, unknown>
      : {};
    const state = server.enabled ? "" : ", disabled";
    lines.push(`  server ${quoteForTerminal(server.name)} (${server.type}${state}):`);
    const found = new Findings();
    if (server.type === "stdio") {
      const words = [entry.command, ...(Array.isArray(entry.args) ? entry.args : [])];
      found.lines.push(`run ${words.map((word) => quoteForTerminal(String(word))).join(" ")}`);
      found.lines.push(
        typeof entry.cwd === "string"
          ? `in ${quoteForTerminal(entry.cwd)}`
          : "in the directory toolscript runs in",
      );
      const names = isRecord(entry.env) ? Object.keys(entry.env) : [];
      if (names.length) {
        found.lines.push(`with environment ${names.map(quoteForTerminal).join(", ")}`);
      }
    }
    found.collect(entry, "");
    if (server.type !== "stdio" && server.tokenOverride !== undefined) {
      found.lines.push(`send $${tokenOverrideVariable(server.name)} (set in this environment)`);
    }
    lines.push(...found.render("    "));
  }
  const rest = new Findings();
  rest.collect(Object.fromEntries(Object.entries(doc).filter(([key]) => key !== "mcpServers")), "");
  const restLines = rest.render("    ");
  if (restLines.length) lines.push("  elsewhere in the config:", ...restLines);
  return lines;
}

/** What one part of the config reaches and reads, gathered by walking its JSON. */
class Findings {
  readonly lines: string[] = [];
  readonly #variables = new Set<string>();

  /** Walks `value` at JSON path `path`: URLs, `*File` paths, `*Env` names, `${VAR}` references. */
  collect(value: unknown, path: string): void {
    if (typeof value === "string") {
      for (const [, name] of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) {
        this.#variables.add(name);
      }
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => this.collect(item, `${path}[${i}]`));
      return;
    }
    if (!isRecord(value)) return;
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith("_") || key.startsWith("$")) continue; // comments, never used
      const at = path ? `${path}.${key}` : key;
      if (typeof item === "string") {
        if (/(url|uri)$/i.test(key)) {
          this.lines.push(`reach ${quoteForTerminal(item)} (${quoteForTerminal(at)})`);
        } else if (key.endsWith("File")) {
          this.lines.push(`read file ${quoteForTerminal(item)} (${quoteForTerminal(at)})`);
        } else if (key.endsWith("Env")) this.#variables.add(item);
      }
      this.collect(item, at);
    }
  }

  /** The lines gathered, then one line with every environment variable read, indented. */
  render(indent: string): string[] {
    const lines = [...this.lines];
    if (this.#variables.size) {
      lines.push(
        `read environment variables ${[...this.#variables].map(quoteForTerminal).join(", ")}`,
      );
    }
    return lines.map((line) => indent + line);
  }
}
