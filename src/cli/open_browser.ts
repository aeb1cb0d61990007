/**
 * Opens a URL in the user's browser with the platform's opener (`xdg-open` or `$BROWSER`,
 * `open`, `rundll32`). Over SSH or without a display it does nothing and says so, so the
 * caller prints the URL instead.
 */

/** How long an opener may take to fail before it is taken as started, by default. */
export const DEFAULT_OPENER_GRACE_MS = 2_000;

/** Options of {@link openBrowser}. */
export interface OpenBrowserOptions {
  env: (name: string) => string | undefined;
  os?: typeof Deno.build.os;
  /**
   * How long to wait for the opener to exit with a failure; one still running after this
   * (a browser started in the foreground, such as `BROWSER=firefox` or a terminal browser)
   * counts as opened and is left running. Default {@link DEFAULT_OPENER_GRACE_MS}.
   */
  graceMs?: number;
}

/**
 * The command line that opens `url` on `os`: `open` on macOS, `rundll32 url.dll,
 * FileProtocolHandler` on Windows (unlike `cmd /c start`, it passes a URL with `&` whole),
 * else `$BROWSER` or `xdg-open`.
 */
export function openerCommand(
  url: string,
  os: typeof Deno.build.os,
  env: (name: string) => string | undefined,
): [string, ...string[]] {
  if (os === "darwin") return ["open", url];
  if (os === "windows") return ["rundll32", "url.dll,FileProtocolHandler", url];
  return [env("BROWSER") || "xdg-open", url];
}

/**
 * Starts the opener and returns true when it exited successfully, or is still running after
 * `graceMs`; false when `url` is not an http(s) URL (a `file:` or custom-scheme URL never
 * reaches the opener), there is no display, it cannot be started, or it failed. Never waits
 * for a browser to close, and a running opener does not keep the CLI alive.
 */
export async function openBrowser(url: string, options: OpenBrowserOptions): Promise<boolean> {
  if (!isWebUrl(url)) return false;
  const os = options.os ?? Deno.build.os;
  const env = options.env;
  if (os === "linux" && !env("DISPLAY") && !env("WAYLAND_DISPLAY")) return false;
  if (env("SSH_CONNECTION") && !env("DISPLAY")) return false;
  const [command, ...args] = openerCommand(url, os, env);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    return false;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stillRunning = new Promise<"running">((resolve) => {
    timer = setTimeout(() => resolve("running"), options.graceMs ?? DEFAULT_OPENER_GRACE_MS);
  });
  try {
    const outcome = await Promise.race([child.status, stillRunning]);
    if (outcome !== "running") return outcome.success;
    child.unref();
    return true;
  } finally {
    clearTimeout(timer);
  }
}

function isWebUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol } = new URL(url);
  return protocol === "https:" || protocol === "http:";
}
