/**
 * The requests of one client session, answered: `initialize` (with every capability the gateway
 * can route, whatever upstreams are connected now, so a server that a reload adds works for
 * sessions already open), `ping` and the merged lists by the gateway itself; calls, prompts,
 * resource reads and subscriptions, completions and `logging/setLevel` by the upstream their
 * name, URI or reference belongs to. A request no upstream can serve gets its empty answer (no
 * completion values, a subscription the gateway keeps, a level remembered for later servers).
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  LATEST_PROTOCOL_VERSION,
  McpError,
  type ServerCapabilities,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "./gateway.ts";
import type { Upstream } from "./upstream.ts";
import { type Json, paramsOf, RpcCode, type RpcRequest } from "./jsonrpc.ts";
import { type ClientPeer, type InboundCall, isLogLevel } from "./session_hub.ts";
import { TOOLSCRIPT_VERSION } from "../version.ts";

/** Our name and version as MCP clients see them. */
export const GATEWAY_INFO = { name: "toolscript", version: TOOLSCRIPT_VERSION };

/** The session whose requests are answered: `initialize` and `logging/setLevel` set these. */
export interface RequestingPeer extends ClientPeer {
  /** The capabilities the client declared in `initialize`. */
  capabilities: Json;
  /** The lowest log level it asked for. */
  logLevel?: string;
  /** The `gateway.callers` caller it authenticated as; undefined: the gateway's own. */
  readonly caller?: string;
}

/** Answers the requests of one session; see the module comment. */
export class ClientRequests {
  readonly #gateway: Gateway;
  readonly #session: RequestingPeer;

  /** Answers for `session`, through `gateway`. */
  constructor(gateway: Gateway, session: RequestingPeer) {
    this.#gateway = gateway;
    this.#session = session;
  }

  /** The answer to `request` (a JSON-RPC result), or a throw that becomes its error answer. */
  async handle(request: RpcRequest, signal: AbortSignal): Promise<Json> {
    const gateway = this.#gateway;
    const params = paramsOf(request);
    switch (request.method) {
      case "initialize":
        return this.#initialize(params);
      case "ping":
        return {};
      case "tools/list":
        return { tools: gateway.listTools() };
      case "prompts/list":
        return { prompts: gateway.listPrompts() };
      case "resources/list":
        return { resources: gateway.listResources() };
      case "resources/templates/list":
        return { resourceTemplates: gateway.listResourceTemplates() };
      case "tools/call": {
        this.#bind(request, params, signal);
        const args = params.arguments as Record<string, unknown> | undefined;
        const caller = this.#session.caller;
        return await gateway.callTool(String(params.name), args, signal, caller) as unknown as Json;
      }
      case "prompts/get": {
        const target = gateway.resolve(String(params.name), "prompt");
        if (!target) throw invalidParams(`Unknown prompt "${params.name}"`);
        this.#bind(request, params, signal);
        return gateway.maskSecrets(
          await target.upstream.forward("prompts/get", {
            ...withoutMeta(params),
            name: target.name,
          }, signal),
        );
      }
      case "resources/read":
        return await this.#forwardByUri(request, params, signal);
      case "resources/subscribe":
      case "resources/unsubscribe":
        return await this.#subscription(request, params, signal);
      case "completion/complete":
        return await this.#complete(request, params, signal);
      case "logging/setLevel":
        return await this.#setLevel(params);
      default:
        throw new McpError(RpcCode.MethodNotFound, `Method not found: ${request.method}`);
    }
  }

  #initialize(params: Json): Json {
    this.#session.capabilities = isObject(params.capabilities) ? params.capabilities : {};
    const asked = String(params.protocolVersion);
    const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(asked)
      ? asked
      : LATEST_PROTOCOL_VERSION;
    return { protocolVersion, capabilities: this.#serverCapabilities(), serverInfo: GATEWAY_INFO };
  }

  /**
   * What the gateway offers: everything it can route, whichever upstreams are connected now.
   * MCP has no renegotiation, so a session must be able to use the logging, completions and
   * subscriptions of a server that a reload adds (or that connects) after its `initialize`;
   * requests no upstream can serve get their empty answer (see the module comment).
   */
  #serverCapabilities(): Json {
    return {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      logging: {},
      completions: {},
    };
  }

  /** Ties the upstream request this client request causes to this session. */
  #bind(request: RpcRequest, params: Json, signal: AbortSignal): void {
    const meta = isObject(params._meta) ? params._meta : undefined;
    const call: InboundCall = { peer: this.#session, requestId: request.id };
    if (meta) {
      const { progressToken, ...rest } = meta;
      if (typeof progressToken === "string" || typeof progressToken === "number") {
        call.progressToken = progressToken;
      }
      if (Object.keys(rest).length > 0) call.meta = rest;
    }
    this.#gateway.hub.bindCall(signal, call);
  }

  /** Forwards a request about a resource to the upstream behind its URI, with its own URI. */
  async #forwardByUri(request: RpcRequest, params: Json, signal: AbortSignal): Promise<Json> {
    const target = this.#gateway.resolveResource(String(params.uri));
    if (!target) throw invalidParams(`Unknown resource "${params.uri}"`);
    this.#bind(request, params, signal);
    const answer = await target.upstream.forward(request.method, {
      ...withoutMeta(params),
      uri: target.uri,
    }, signal);
    return this.#gateway.maskSecrets(answer);
  }

  /**
   * A subscription is the gateway's own: the hub remembers it, and the upstream hears of it
   * when it offers subscriptions (now, or after a reconnect: it resubscribes then). A server
   * without them is not asked, and the client's request still succeeds.
   */
  async #subscription(request: RpcRequest, params: Json, signal: AbortSignal): Promise<Json> {
    const exposed = String(params.uri);
    const target = this.#gateway.resolveResource(exposed);
    if (!target) throw invalidParams(`Unknown resource "${exposed}"`);
    const { upstream, uri } = target;
    const hub = this.#gateway.hub;
    if (request.method === "resources/subscribe") {
      if (!hub.subscribe(upstream.name, uri, this.#session, exposed)) return {};
      try {
        return await this.#forwardIfOffered(upstream, offersSubscribe, request, params, signal);
      } catch (error) {
        hub.unsubscribe(upstream.name, uri, this.#session);
        throw error;
      }
    }
    if (!hub.unsubscribe(upstream.name, uri, this.#session)) return {};
    return await this.#forwardIfOffered(upstream, offersSubscribe, request, params, signal);
  }

  /**
   * Forwards a request by its URI unless `upstream` is known not to offer what it needs, or
   * refuses it as an unknown method for that reason: then the answer is `{}`.
   */
  async #forwardIfOffered(
    upstream: Upstream,
    offers: (caps: ServerCapabilities) => boolean,
    request: RpcRequest,
    params: Json,
    signal: AbortSignal,
  ): Promise<Json> {
    const known = () => upstream.serverCapabilities;
    if (known() && !offers(known()!)) return {};
    try {
      return await this.#forwardByUri(request, params, signal);
    } catch (error) {
      const refused = error instanceof McpError && error.code === RpcCode.MethodNotFound;
      if (refused && known() && !offers(known()!)) return {};
      throw error;
    }
  }

  async #complete(request: RpcRequest, params: Json, signal: AbortSignal): Promise<Json> {
    const ref = isObject(params.ref) ? params.ref : {};
    let upstream: Upstream | undefined;
    let forwardedRef = ref;
    if (ref.type === "ref/prompt") {
      const target = this.#gateway.resolve(String(ref.name), "prompt");
      if (!target) throw invalidParams(`Unknown prompt "${ref.name}"`);
      upstream = target.upstream;
      forwardedRef = { ...ref, name: target.name };
    } else if (ref.type === "ref/resource") {
      const target = this.#gateway.resolveResource(String(ref.uri));
      if (!target) throw invalidParams(`Unknown resource template "${ref.uri}"`);
      upstream = target.upstream;
      forwardedRef = { ...ref, uri: target.uri };
    } else {
      throw invalidParams(`Unknown completion reference type "${ref.type}"`);
    }
    // A server without completions has none to give: an empty completion, as MCP spells it.
    const caps = upstream.serverCapabilities;
    if (caps && !caps.completions) return noCompletion();
    this.#bind(request, params, signal);
    try {
      return await upstream.forward("completion/complete", {
        ...withoutMeta(params),
        ref: forwardedRef,
      }, signal);
    } catch (error) {
      const refused = error instanceof McpError && error.code === RpcCode.MethodNotFound;
      if (refused && upstream.serverCapabilities && !upstream.serverCapabilities.completions) {
        return noCompletion();
      }
      throw error;
    }
  }

  /**
   * Remembers the session's level and sends the most verbose level any session asked for to
   * every upstream; one that offers no logging now remembers it for when it connects (and a
   * server a reload adds gets it too), so the request succeeds with no logging server at all.
   */
  async #setLevel(params: Json): Promise<Json> {
    if (!isLogLevel(params.level)) {
      throw invalidParams(`Unknown log level ${JSON.stringify(params.level)}`);
    }
    this.#session.logLevel = params.level;
    const level = this.#gateway.hub.mostVerboseLevel() ?? this.#session.logLevel;
    await Promise.all(
      [...this.#gateway.upstreams.values()].map((upstream) =>
        upstream.setLogLevel(level).catch((error) =>
          this.#gateway.logger.debug(`server "${upstream.name}" refused logging/setLevel`, {
            error: String(error),
          })
        )
      ),
    );
    return {};
  }
}

/** The answer to `completion/complete` when the server behind the reference offers none. */
function noCompletion(): Json {
  return { completion: { values: [], total: 0, hasMore: false } };
}

/** True when the server takes `resources/subscribe`. */
function offersSubscribe(caps: ServerCapabilities): boolean {
  return caps.resources?.subscribe === true;
}

function withoutMeta(params: Json): Json {
  if (!("_meta" in params)) return params;
  const { _meta: _, ...rest } = params;
  return rest;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function invalidParams(message: string): McpError {
  return new McpError(RpcCode.InvalidParams, message);
}
