/**
 * Shared argument parsing for every command: `node:util` parseArgs in strict mode, with
 * its errors turned into {@link UsageError} (exit 2), plus the flags every command accepts.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

/** Flags every command accepts. */
export interface GlobalFlags {
  config?: string;
  help: boolean;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

const GLOBAL_OPTIONS: Options = {
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** The result of {@link parseCommandArgs}: typed values, positionals and the global flags. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  global: GlobalFlags;
}

/**
 * Parses `argv` for one command. `maxPositionals` bounds the positional arguments; extra or
 * unknown arguments are usage errors that name the command's `--help`.
 */
export function parseCommandArgs(
  command: string,
  argv: string[],
  options: Options,
  positionals: { min: number; max: number },
): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]}`, {
      fix: `toolscript ${command} --help`,
    });
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const global = { config: values.config as string | undefined, help: values.help === true };
  if (!global.help) {
    if (parsed.positionals.length < positionals.min) {
      throw new UsageError(`Missing argument for "${command}"`, {
        fix: `toolscript ${command} --help`,
      });
    }
    if (parsed.positionals.length > positionals.max) {
      throw new UsageError(
        `Unexpected argument "${parsed.positionals[positionals.max]}" for "${command}"`,
        { fix: `toolscript ${command} --help` },
      );
    }
  }
  return { values, positionals: parsed.positionals, global };
}

/** Parses a port flag: an integer 0..65535. */
export function parsePort(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(`${flag} must be a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

/** Parses a positive number of seconds into milliseconds. */
export function parseSeconds(
  value: string | boolean | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (typeof value !== "string" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`${flag} must be a positive number of seconds, got "${value}"`);
  }
  return Math.round(seconds * 1000);
}

/** The lines printed after a command's own help: the flags every command accepts. */
export const GLOBAL_HELP = `
Global options:
  --config <path>   Config file (default: $TOOLSCRIPT_CONFIG, ./.toolscript.json,
                    $XDG_CONFIG_HOME/toolscript/config.json)
  -h, --help        Show this help`;
