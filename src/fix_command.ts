/**
 * The one renderer of fix commands, used by both edges (the CLI's error lines in `main.ts`,
 * the gateway's tool results and health). Errors carry facts ({@link LoginFix}: server,
 * scopes); the edge knows which config it runs with and adds `--config <path>` to a login
 * command when that config is not the one found by default.
 */
import { authCommand, ToolscriptError } from "./errors.ts";

/** What an edge knows that the errors do not. */
export interface FixContext {
  /** The config file to name in `--config`, when it is not found by the default lookup. */
  configPath?: string;
}

/** The command that fixes `error` as this edge runs it; undefined when there is none. */
export function renderFix(error: unknown, context: FixContext): string | undefined {
  if (!(error instanceof ToolscriptError)) return undefined;
  if (error.login) return authCommand(error.login, context.configPath);
  return error.fix;
}

/**
 * `text` (the error's message, or a line built from it) with the error's default fix command
 * replaced by the one {@link renderFix} renders for this edge.
 */
export function renderFixIn(text: string, error: unknown, context: FixContext): string {
  const fix = renderFix(error, context);
  if (!(error instanceof ToolscriptError) || !error.fix || !fix || fix === error.fix) return text;
  return text.replaceAll(error.fix, fix);
}

/**
 * What the CLI prints for a failed command: `error: <message>`, then `fix: <command>` when
 * the message does not already name it; each line ends in a newline.
 */
export function renderErrorLines(error: unknown, context: FixContext): string {
  const message = renderFixIn(
    error instanceof Error ? error.message : String(error),
    error,
    context,
  );
  const fix = renderFix(error, context);
  return `error: ${message}\n` + (fix && !message.includes(fix) ? `fix: ${fix}\n` : "");
}
