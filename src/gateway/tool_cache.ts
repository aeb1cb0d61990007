/**
 * Remembers each server's last tool list on disk (`$TOOLSCRIPT_HOME/cache/`), so a server that
 * needs a login, or is down, still shows its tools to the model. Tool lists hold no secrets.
 */
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { writeFileAtomically } from "../config/private_file.ts";
import { encodeServerName } from "../config/server_file_name.ts";

/** Where tool lists are remembered between runs. */
export interface ToolCache {
  /**
   * The last list saved for `server` (upstream names, not namespaced), or undefined when none.
   * A rejection is treated as "none".
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  load(server: string): Promise<Tool[] | undefined>;
  /**
   * Replaces the list of `server`; called whenever a connected server's offer may have changed.
   * A rejection is logged as a warning and otherwise ignored.
   */
  save(server: string, tools: Tool[]): Promise<void>;
  /**
   * Forgets the list of `server`; called when a config reload drops the server's entry (not
   * when the entry is only disabled: re-enabling it shows the remembered tools at once). A
   * rejection is logged as a warning and otherwise ignored. Optional: a cache without it keeps
   * lists of removed servers.
   */
  remove?(server: string): Promise<void>;
}

/** A {@link ToolCache} with one JSON file per server under `dir`. */
export class FileToolCache implements ToolCache {
  readonly #dir: string;

  /** Reads and writes nothing until used; `dir` is made (mode 0700) on the first save. */
  constructor(options: { dir: string }) {
    this.#dir = options.dir;
  }

  #file(server: string): string {
    return join(this.#dir, `${encodeServerName(server)}.tools.json`);
  }

  /** The cached tools, or undefined when none (or the file is unreadable). */
  async load(server: string): Promise<Tool[] | undefined> {
    try {
      const doc = JSON.parse(await Deno.readTextFile(this.#file(server)));
      return Array.isArray(doc?.tools) ? doc.tools : undefined;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** Replaces the cached list atomically (temp file, fsync, rename), as a 0600 file. */
  async save(server: string, tools: Tool[]): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const bytes = new TextEncoder().encode(JSON.stringify({ version: 1, server, tools }));
    await writeFileAtomically(this.#file(server), bytes);
  }

  /** Deletes the cached list; a list that is not there is already forgotten. */
  async remove(server: string): Promise<void> {
    try {
      await Deno.remove(this.#file(server));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
