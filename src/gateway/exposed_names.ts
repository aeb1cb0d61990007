/**
 * The one mapping between what the gateway exposes and what each upstream offers: exposed tool
 * and prompt names (`<prefix>__<name>`, or `<name>` for `prefix: ""`) both ways, the
 * `tools.allow`/`tools.deny` filter, and the rewrite of resource URIs that two servers both
 * offer. Listing and resolution read the same table, so a name is listed under a server if and
 * only if a call of that name runs on that server.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ToolFilterConfig } from "../config/types.ts";
import { NAME_SEPARATOR } from "../config/name_separator.ts";

export { NAME_SEPARATOR };

/** Scheme of rewritten resource URIs: `toolscript://<server>/<the upstream's own URI>`. */
const REWRITE_SCHEME = "toolscript://";

/** What one server offers, as the table needs it. */
export interface ExposedServerOffer {
  /** The server's name in config. */
  server: string;
  /** Its prefix; undefined: the server name. `""` exposes the upstream's names unchanged. */
  prefix?: string;
  /** Which of its tools are exposed; undefined: all. */
  toolFilter?: ToolFilterConfig;
  /** Its tools, with their own names. */
  tools: readonly Tool[];
  /** Its prompts, with their own names. */
  prompts?: readonly Prompt[];
  /** Its resources, with their own URIs. */
  resources?: readonly Resource[];
  /** Its resource templates, with their own URI templates. */
  templates?: readonly ResourceTemplate[];
  /**
   * Tools the gateway itself offers for this server (the `authenticate` placeholder), with own
   * names; prefixed like the server's tools but never filtered.
   */
  extraTools?: readonly Tool[];
}

/** Where an exposed tool or prompt name leads. */
export interface ExposedTarget {
  /** The server's name in config. */
  server: string;
  /** The upstream's own name. */
  name: string;
}

/** One exposed tool: its server, its own name, and the tool as listed (exposed name). */
export interface ExposedTool extends ExposedTarget {
  /** The tool as the gateway lists it, `name` being the exposed name. */
  tool: Tool;
}

/** Where an exposed resource URI leads. */
export interface ExposedResourceTarget {
  /** The server's name in config. */
  server: string;
  /** The URI as the upstream knows it. */
  uri: string;
}

/** Two servers wanting the same exposed name or overlapping resource URIs. */
export interface ExposedCollision {
  /** What collided. */
  kind: "tool" | "prompt" | "resource" | "resource template";
  /** The name, URI or URI template both wanted (the later server's own form, for URIs). */
  exposed: string;
  /** The server listed first in the config, which keeps the name or URI. */
  kept: string;
  /** The later server: its tool or prompt is hidden, its URI rewritten (see `rewritten`). */
  other: string;
  /** The later server's rewritten URI or template; undefined when its item is hidden. */
  rewritten?: string;
}

/** The exposed name of tool or prompt `name` of a server with `prefix`. */
export function exposedName(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}${NAME_SEPARATOR}${name}`;
}

/**
 * The rewritten form of `uri` (or URI template) of `server`: `toolscript://<server>/<uri>`, the
 * upstream's URI kept verbatim after the slash, so a template stays a template and the rewrite
 * is undone by cutting the prefix.
 */
export function rewriteUri(server: string, uri: string): string {
  return `${REWRITE_SCHEME}${encodeURIComponent(server)}/${uri}`;
}

/** Undoes {@link rewriteUri}: the server and own URI, or undefined for any other URI. */
export function parseRewrittenUri(uri: string): ExposedResourceTarget | undefined {
  if (!uri.startsWith(REWRITE_SCHEME)) return undefined;
  const slash = uri.indexOf("/", REWRITE_SCHEME.length);
  if (slash < 0) return undefined;
  try {
    const server = decodeURIComponent(uri.slice(REWRITE_SCHEME.length, slash));
    return { server, uri: uri.slice(slash + 1) };
  } catch {
    return undefined;
  }
}

/**
 * A predicate over the upstream's own tool names: true when `filter` exposes the tool. `*`
 * matches any run of characters (also none); deny wins over allow.
 */
export function compileToolFilter(filter: ToolFilterConfig | undefined): (name: string) => boolean {
  if (!filter || (filter.allow === undefined && !filter.deny?.length)) return () => true;
  const allow = filter.allow?.map(globToRegExp);
  const deny = (filter.deny ?? []).map(globToRegExp);
  return (name) =>
    (allow === undefined || allow.some((glob) => glob.test(name))) &&
    !deny.some((glob) => glob.test(name));
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${body}$`);
}

/** The literal text of a URI template before its first expression. */
function literalPrefix(template: string): string {
  const brace = template.indexOf("{");
  return brace < 0 ? template : template.slice(0, brace);
}

interface ExposedUri extends ExposedResourceTarget {
  /** The URI (or template) as exposed. */
  exposed: string;
}

/**
 * The exposure table, built from every server's offer in config order. Immutable: build a new
 * one when an offer changes (each build is linear in the offers, plus a scan of the earlier
 * servers' URIs per resource template), and look names up in constant time.
 *
 * Rules:
 * - Tools and prompts are exposed as `<prefix>__<name>` (`<name>` for `prefix: ""`); filtered
 *   tools are not in the table at all.
 * - When two servers expose the same final name, the server listed first keeps it and the
 *   later one's tool or prompt is hidden (reported in {@link ExposedNames.collisions}).
 * - Resource URIs keep their upstream form unless an earlier server already offers an
 *   overlapping one (the same URI, a URI its template can produce, or a template that can
 *   produce the same URIs); then the later server's URI or template becomes
 *   `toolscript://<server>/<own URI>` (see {@link rewriteUri}), which reads undo.
 *
 * @example
 * ```ts
 * import { ExposedNames } from "./exposed_names.ts";
 * const names = new ExposedNames([
 *   { server: "github", tools: [{ name: "search", inputSchema: { type: "object" } }] },
 *   { server: "docs", prefix: "", tools: [{ name: "search", inputSchema: { type: "object" } }] },
 * ]);
 * names.tool("github__search"); // { server: "github", name: "search" }
 * names.tool("search"); // { server: "docs", name: "search" }
 * ```
 */
export class ExposedNames {
  /** Every exposed tool, in config order and then each upstream's order. */
  readonly toolEntries: readonly ExposedTool[];
  /** Every exposed tool as listed (exposed names). */
  readonly tools: readonly Tool[];
  /** Every exposed prompt as listed (exposed names). */
  readonly prompts: readonly Prompt[];
  /** Every resource as listed (exposed URIs; names prefixed like tools). */
  readonly resources: readonly Resource[];
  /** Every resource template as listed (exposed URI templates; names prefixed). */
  readonly templates: readonly ResourceTemplate[];
  /** Names hidden and URIs rewritten because an earlier server had them. */
  readonly collisions: readonly ExposedCollision[];
  #tools = new Map<string, ExposedTool>();
  #toolNames = new Map<string, Map<string, string>>();
  #prompts = new Map<string, ExposedTarget>();
  #uris = new Map<string, ExposedUri>();
  #templates: ExposedUri[] = [];
  #servers = new Set<string>();
  /** Servers that offered no tools (their list is unknown while they are down). */
  #unlisted: { server: string; prefix: string; exposes: (name: string) => boolean }[] = [];

  /** Builds the table from `offers`, the first offer winning every collision. */
  constructor(offers: readonly ExposedServerOffer[]) {
    const collisions: ExposedCollision[] = [];
    const tools: ExposedTool[] = [];
    const prompts: Prompt[] = [];
    const resources: Resource[] = [];
    const templates: ResourceTemplate[] = [];
    for (const offer of offers) {
      const { server } = offer;
      const prefix = offer.prefix ?? server;
      this.#servers.add(server);
      const exposes = compileToolFilter(offer.toolFilter);
      if (offer.tools.length === 0 && prefix !== "") {
        this.#unlisted.push({ server, prefix, exposes });
      }
      const own = new Map<string, string>();
      this.#toolNames.set(server, own);
      const addTool = (tool: Tool) => {
        const exposed = exposedName(prefix, tool.name);
        const taken = this.#tools.get(exposed);
        if (taken) {
          if (taken.server !== server) {
            collisions.push({ kind: "tool", exposed, kept: taken.server, other: server });
          }
          return;
        }
        const entry = { server, name: tool.name, tool: { ...tool, name: exposed } };
        this.#tools.set(exposed, entry);
        own.set(tool.name, exposed);
        tools.push(entry);
      };
      for (const tool of offer.tools) if (exposes(tool.name)) addTool(tool);
      for (const tool of offer.extraTools ?? []) addTool(tool);

      for (const prompt of offer.prompts ?? []) {
        const exposed = exposedName(prefix, prompt.name);
        const taken = this.#prompts.get(exposed);
        if (taken) {
          if (taken.server !== server) {
            collisions.push({ kind: "prompt", exposed, kept: taken.server, other: server });
          }
          continue;
        }
        this.#prompts.set(exposed, { server, name: prompt.name });
        prompts.push({ ...prompt, name: exposed });
      }

      // URIs are checked against the servers before this one only: a server's own resources
      // and templates may overlap each other (the upstream sorts those out).
      const earlierUris = [...this.#uris.values()];
      const earlierTemplates = [...this.#templates];
      for (const resource of offer.resources ?? []) {
        if (this.#uris.get(resource.uri)?.server === server) continue;
        const owner = earlierUris.find((u) => u.exposed === resource.uri)?.server ??
          earlierTemplates.find((t) => resource.uri.startsWith(literalPrefix(t.exposed)))
            ?.server;
        const exposed = owner === undefined ? resource.uri : rewriteUri(server, resource.uri);
        const taken = this.#uris.get(exposed);
        if (owner !== undefined || taken) {
          collisions.push({
            kind: "resource",
            exposed: resource.uri,
            kept: owner ?? taken!.server,
            other: server,
            rewritten: taken ? undefined : exposed,
          });
        }
        if (taken) continue;
        this.#uris.set(exposed, { server, uri: resource.uri, exposed });
        resources.push({ ...resource, uri: exposed, name: exposedName(prefix, resource.name) });
      }
      for (const template of offer.templates ?? []) {
        const start = literalPrefix(template.uriTemplate);
        const owner = earlierTemplates.find((t) => {
          const other = literalPrefix(t.exposed);
          return other.startsWith(start) || start.startsWith(other);
        })?.server ?? earlierUris.find((u) => u.exposed.startsWith(start))?.server;
        const exposed = owner === undefined
          ? template.uriTemplate
          : rewriteUri(server, template.uriTemplate);
        if (owner !== undefined) {
          collisions.push({
            kind: "resource template",
            exposed: template.uriTemplate,
            kept: owner,
            other: server,
            rewritten: exposed,
          });
        }
        this.#templates.push({ server, uri: template.uriTemplate, exposed });
        templates.push({
          ...template,
          uriTemplate: exposed,
          name: exposedName(prefix, template.name),
        });
      }
    }
    this.toolEntries = tools;
    this.tools = tools.map((entry) => entry.tool);
    this.prompts = prompts;
    this.resources = resources;
    this.templates = templates;
    this.collisions = collisions;
  }

  /** The server and own name behind an exposed tool name, or undefined when none is exposed. */
  tool(exposed: string): ExposedTarget | undefined {
    const entry = this.#tools.get(exposed);
    return entry && { server: entry.server, name: entry.name };
  }

  /**
   * For a name the table does not list: the first server (in config order) that offered no
   * tools at all, has a non-empty prefix that starts `exposed` followed by `__`, and whose
   * filter lets the rest pass, among those `candidate` accepts (the gateway passes "not
   * connected"). Such a server's tools are unknown, so the gateway may report why it is down
   * (or reconnect and try) instead of answering "unknown tool". Undefined when none matches.
   */
  unlistedTool(exposed: string, candidate: (server: string) => boolean): ExposedTarget | undefined {
    for (const { server, prefix, exposes } of this.#unlisted) {
      const start = prefix + NAME_SEPARATOR;
      if (!exposed.startsWith(start) || !candidate(server)) continue;
      const name = exposed.slice(start.length);
      if (name !== "" && exposes(name)) return { server, name };
    }
    return undefined;
  }

  /** The exposed name of tool `name` of `server`, or undefined when it is not exposed. */
  toolName(server: string, name: string): string | undefined {
    return this.#toolNames.get(server)?.get(name);
  }

  /** The server and own name behind an exposed prompt name, or undefined. */
  prompt(exposed: string): ExposedTarget | undefined {
    return this.#prompts.get(exposed);
  }

  /**
   * The server and own URI for a resource URI a client reads or subscribes to: a listed URI;
   * else a rewritten one (`toolscript://<server>/…`, of a configured server); else the server
   * whose template's literal start is the longest prefix of `uri`; else the first server with a
   * template of the same scheme. Undefined when none applies.
   */
  resource(uri: string): ExposedResourceTarget | undefined {
    const listed = this.#uris.get(uri);
    if (listed) return { server: listed.server, uri: listed.uri };
    const rewritten = parseRewrittenUri(uri);
    if (rewritten && this.#servers.has(rewritten.server)) return rewritten;
    let best: ExposedUri | undefined;
    let bestLength = -1;
    for (const template of this.#templates) {
      const start = literalPrefix(template.exposed);
      if (start.length > bestLength && uri.startsWith(start)) {
        best = template;
        bestLength = start.length;
      }
    }
    if (!best) {
      const scheme = uri.split(":")[0] + ":";
      best = this.#templates.find((t) => t.exposed === t.uri && t.exposed.startsWith(scheme));
    }
    if (!best) return undefined;
    // A rewritten template's URIs carry the rewrite's prefix before the upstream's own URI.
    const own = best.exposed === best.uri ? uri : uri.slice(best.exposed.length - best.uri.length);
    return { server: best.server, uri: own };
  }
}
