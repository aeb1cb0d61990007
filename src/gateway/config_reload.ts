/**
 * Hot reload: watches the gateway's config file and applies each saved change to the running
 * gateway (see `Gateway.reload`): added servers connect, removed ones close, changed ones
 * reconnect. A change that does not load (bad JSON, a failed validation, a project config
 * whose new text is not trusted) is logged with the error `toolscript servers` would print,
 * and the running config stays. Changes of `gateway.*` settings that only apply at start are
 * logged as needing a restart, and so is a change of the top-level `store` block (the running
 * store stays: credentials, locks and callers' views are opened from it once); the rest of the
 * change still applies.
 */
import type { Config, GatewayConfig } from "../config/types.ts";
import { configDigest } from "../config/trusted_configs.ts";
import { watchFiles } from "../config/watch_files.ts";
import { ToolscriptError } from "../errors.ts";
import type { Gateway } from "./gateway.ts";
import type { GatewayReload } from "./apply_reload.ts";
import { stableJson } from "./reload_plan.ts";

/** Options of {@link watchConfigReload}. */
export interface ConfigReloadOptions {
  /** The config file the gateway runs on (absolute). */
  file: string;
  /**
   * Other files whose change can make the same text load differently, e.g.
   * `$TOOLSCRIPT_HOME/trusted.json` for a project config: after `toolscript trust`, a refused
   * edit applies without another save.
   */
  alsoWatch?: readonly string[];
  /**
   * Turns the saved text into a config: trust check, parsing, `${VAR}` expansion from the
   * gateway's environment, validation. Throws (a `ConfigError`) when it cannot.
   */
  load: (text: string) => Promise<Config>;
  /**
   * `gateway` settings that do not come from the file in this run (given by `--host`,
   * `--port`, `--expose`, or meaningless in `--stdio` mode): their changes need no restart.
   */
  ignoreGatewaySettings?: readonly (keyof GatewayConfig)[];
  /** Reads the config file; default `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
  /** Quiet time that settles a burst of file events into one reload; default 100 ms. */
  debounceMs?: number;
  /** Told of every applied reload (after its new servers' first connect attempts). */
  onReload?: (reload: ConfigReloaded) => void;
  /** Stops watching. */
  signal?: AbortSignal;
}

/** An applied change, as {@link ConfigReloadOptions.onReload} hears of it. */
export interface ConfigReloaded extends GatewayReload {
  /**
   * The config as loaded from the saved text, its `gateway` block included (the gateway keeps
   * the block it started with; what of it can follow a reload, `gateway.callers`, reads it here).
   */
  config: Config;
  /**
   * Settings that changed in the file but apply only after a restart, as written in it
   * (`gateway.host`, `gateway.port`, …, and `store`).
   */
  needsRestart: string[];
}

/** `gateway` settings the running gateway cannot change: they are read once, at start. */
const START_ONLY_SETTINGS: readonly (keyof GatewayConfig)[] = [
  "host",
  "port",
  "allowedHosts",
  "expose",
];

/**
 * Watches `options.file` (by its directory, so editors that save by rename are seen) and
 * reloads `gateway` on every saved change of its content; a save or touch that leaves the
 * text as it was does nothing. Reloads run one at a time; events during one lead to one more
 * look afterwards. The text is checked once at the start too, so an edit made while the
 * gateway was starting is not missed. Returns the function that stops watching (as does
 * aborting `signal`).
 */
export function watchConfigReload(gateway: Gateway, options: ConfigReloadOptions): () => void {
  const log = gateway.logger;
  const read = options.readTextFile ?? Deno.readTextFile;
  let appliedDigest: string | undefined;
  /** The last failure logged (digest and message), so the same one is logged once. */
  let lastFailure: string | undefined;
  let running = false;
  let again = false;
  let stopped = false;
  /** The store block the running store was opened from: it stays until a restart. */
  const runningStore = stableJson(gateway.config.store ?? null);

  function fail(digest: string, message: string, fix?: string): void {
    const key = `${digest}\n${message}`;
    if (key === lastFailure) return;
    lastFailure = key;
    log.error(
      `config change not applied; the running config stays: ${message}`,
      fix ? { fix } : undefined,
    );
  }

  async function look(): Promise<void> {
    let text: string;
    try {
      text = await read(options.file);
    } catch (error) {
      // Between an editor's delete and its rename, or a file removed for good: keep serving.
      const why = error instanceof Deno.errors.NotFound ? "it is missing" : String(error);
      fail("", `cannot read config file ${JSON.stringify(options.file)}: ${why}`);
      return;
    }
    const digest = configDigest(text);
    if (digest === appliedDigest) return;
    let config: Config;
    try {
      config = await options.load(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      fail(digest, message, error instanceof ToolscriptError ? error.fix : undefined);
      return;
    }
    if (stopped) return;
    lastFailure = undefined;
    appliedDigest = digest;
    const needsRestart = changedSettings(gateway.config.gateway, config.gateway)
      .filter((key) => !options.ignoreGatewaySettings?.includes(key))
      .map((key) => `gateway.${key}`);
    // Compared with the store running, not the last applied text: an edit undone is quiet.
    const storeChanged = stableJson(config.store ?? null) !== runningStore;
    if (storeChanged) needsRestart.push("store");
    const reload = await gateway.reload(config);
    if (needsRestart.length > 0) {
      log.warn(
        `config change of ${needsRestart.join(", ")} applies only after a restart of the ` +
          "gateway; the rest of the change is applied" +
          (storeChanged ? " (the running credential store stays)" : ""),
      );
    }
    const changed = reload.added.length + reload.removed.length + reload.changed.length > 0;
    if (changed) {
      log.info("config reloaded", {
        added: reload.added,
        removed: reload.removed,
        changed: reload.changed,
      });
    }
    options.onReload?.({ ...reload, needsRestart, config });
  }

  async function check(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await look().catch((error) => log.warn("config reload failed", { error: String(error) }));
      } while (again && !stopped);
    } finally {
      running = false;
    }
  }

  const stopWatching = watchFiles([options.file, ...options.alsoWatch ?? []], check, {
    debounceMs: options.debounceMs,
    logger: log,
    signal: options.signal,
  });
  void check();
  return () => {
    stopped = true;
    stopWatching();
  };
}

/** The start-only `gateway` settings whose values differ between two configs. */
function changedSettings(before: GatewayConfig, after: GatewayConfig): (keyof GatewayConfig)[] {
  return START_ONLY_SETTINGS.filter((key) =>
    JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null)
  );
}
