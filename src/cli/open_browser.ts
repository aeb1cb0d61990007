/**
 * Opens a URL in the user's browser with the platform's opener (`xdg-open`, `open`,
 * `start`). Over SSH or without a display it does nothing and says so, so the caller prints
 * the URL instead.
 */

/** Options of {@link openBrowser}. */
export interface OpenBrowserOptions {
  env: (name: string) => string | undefined;
  os?: typeof Deno.build.os;
}

/** Returns true when an opener was started successfully. */
export async function openBrowser(url: string, options: OpenBrowserOptions): Promise<boolean> {
  const os = options.os ?? Deno.build.os;
  const env = options.env;
  if (os === "linux" && !env("DISPLAY") && !env("WAYLAND_DISPLAY")) return false;
  if (env("SSH_CONNECTION") && !env("DISPLAY")) return false;
  const [command, ...args] = os === "darwin"
    ? ["open", url]
    : os === "windows"
    ? ["cmd", "/c", "start", "", url]
    : [env("BROWSER") || "xdg-open", url];
  try {
    const child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const status = await child.status;
    return status.success;
  } catch {
    return false;
  }
}
