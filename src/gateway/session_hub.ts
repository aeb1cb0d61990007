/**
 * What the upstream side needs to know about connected clients: which client made a call, who
 * can answer a server-to-client request, who subscribed to a resource, who wants log messages.
 * One hub per {@link Gateway}; client sessions join it, upstreams ask it.
 */
import type { Json, RequestId, RpcErrorBody } from "./jsonrpc.ts";

/** The answer a client gave to a server-to-client request. */
export type PeerAnswer = { result: Json } | { error: RpcErrorBody };

/** One connected client session, as the hub sees it (implemented by `ClientSession`). */
export interface ClientPeer {
  /** The capabilities the client declared in `initialize` (empty before). */
  readonly capabilities: Json;
  /** The lowest log level it asked for (`logging/setLevel`); undefined: every message. */
  readonly logLevel?: string;
  /** True once the session has ended. */
  readonly closed: boolean;
  /** Sends a notification, on the stream of request `related` when given. */
  notify(method: string, params: Json, related?: RequestId): void;
  /**
   * Sends a request and resolves with the client's answer (or an error answer when the session
   * ends first or the message cannot be delivered); aborting `signal` tells the client.
   */
  request(
    method: string,
    params: Json,
    related?: RequestId,
    signal?: AbortSignal,
  ): Promise<PeerAnswer>;
}

/** A client's request being served upstream (`tools/call`, `prompts/get`, …). */
export interface InboundCall {
  /** The client session that made it. */
  peer: ClientPeer;
  /** The client's JSON-RPC id of the request. */
  requestId: RequestId;
  /** The client's `_meta.progressToken`, when it asked for progress. */
  progressToken?: string | number;
  /** The rest of the client's `_meta`, forwarded upstream as it is. */
  meta?: Json;
}

/** Log levels of RFC 5424 as MCP names them, least severe first. */
const LOG_LEVELS = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];

/** True for a level `logging/setLevel` accepts (`debug` … `emergency`). */
export function isLogLevel(level: unknown): level is string {
  return typeof level === "string" && LOG_LEVELS.includes(level);
}

/** A client capability that a server-to-client request needs; undefined: none needed. */
export function capabilityFor(method: string, params: Json, capabilities: Json): boolean {
  switch (method) {
    case "sampling/createMessage":
      return isObject(capabilities.sampling);
    case "roots/list":
      return isObject(capabilities.roots);
    case "elicitation/create": {
      const elicitation = capabilities.elicitation;
      if (!isObject(elicitation)) return false;
      if (params.mode === "url") return isObject(elicitation.url);
      // An empty elicitation capability is the older spelling of form mode.
      return isObject(elicitation.form) || Object.keys(elicitation).length === 0;
    }
    default:
      return true;
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The client sessions of one gateway. */
export class SessionHub {
  #peers = new Set<ClientPeer>();
  /** The call each forwarded request serves, keyed by the abort signal that call passes down. */
  #calls = new WeakMap<AbortSignal, InboundCall>();
  /** Subscribers per `<server>\n<uri>`. */
  /** `<server>\n<upstream's own URI>` -> each subscribed session and the URI it subscribed by. */
  #subscriptions = new Map<string, Map<ClientPeer, string>>();

  /** Number of connected sessions. */
  get size(): number {
    return this.#peers.size;
  }

  /** A session joined. */
  add(peer: ClientPeer): void {
    this.#peers.add(peer);
  }

  /** A session ended: forget it and its subscriptions; returns what it had subscribed to. */
  remove(peer: ClientPeer): { server: string; uri: string }[] {
    this.#peers.delete(peer);
    const dropped: { server: string; uri: string }[] = [];
    for (const [key, peers] of this.#subscriptions) {
      if (!peers.delete(peer) || peers.size > 0) continue;
      this.#subscriptions.delete(key);
      const [server, uri] = key.split("\n", 2);
      dropped.push({ server, uri });
    }
    return dropped;
  }

  /**
   * Ties `signal` to `call`: the signal a client request's handler passes to
   * `Gateway.callTool` (or an upstream request) is how the upstream side finds the caller.
   */
  bindCall(signal: AbortSignal, call: InboundCall): void {
    this.#calls.set(signal, call);
  }

  /** The call bound to `signal`, if any. */
  callOf(signal: AbortSignal | undefined): InboundCall | undefined {
    return signal ? this.#calls.get(signal) : undefined;
  }

  /**
   * The client to send a server-to-client request to, or why there is none. The rule: the
   * client of the call the request belongs to (`related`) when the transport says so; else the
   * one client session among those with calls in flight to that upstream (all sessions when
   * none has) that declared the capability the request needs. None, or more than one: no client.
   */
  chooseClient(
    method: string,
    params: Json,
    related: InboundCall | undefined,
    inFlight: Iterable<InboundCall>,
  ): ClientPeer | string {
    if (related) {
      if (related.peer.closed) return "the client session that made the call has ended";
      return capabilityFor(method, params, related.peer.capabilities)
        ? related.peer
        : `the client that made the call does not support ${method}`;
    }
    const busy = new Set<ClientPeer>();
    for (const call of inFlight) if (!call.peer.closed) busy.add(call.peer);
    const candidates = busy.size > 0 ? busy : this.#peers;
    let chosen: ClientPeer | undefined;
    let count = 0;
    for (const peer of candidates) {
      if (peer.closed || !capabilityFor(method, params, peer.capabilities)) continue;
      chosen = peer;
      count++;
    }
    if (count === 1) return chosen!;
    if (count === 0) return `no connected client supports ${method}`;
    return `${count} client sessions could have caused ${method}; the gateway cannot tell which`;
  }

  /** Delivers an upstream's `notifications/message`, with `logger` set to the server's name. */
  log(server: string, params: Json, related?: InboundCall): void {
    const message = { ...params, logger: server };
    const level = LOG_LEVELS.indexOf(String(params.level));
    const wants = (peer: ClientPeer) =>
      !peer.closed && (peer.logLevel === undefined || level >= LOG_LEVELS.indexOf(peer.logLevel));
    if (related) {
      if (wants(related.peer)) {
        related.peer.notify("notifications/message", message, related.requestId);
      }
      return;
    }
    for (const peer of this.#peers) if (wants(peer)) peer.notify("notifications/message", message);
  }

  /** The most verbose level any session asked for (what upstreams should send). */
  mostVerboseLevel(): string | undefined {
    let lowest = Infinity;
    for (const peer of this.#peers) {
      if (peer.logLevel !== undefined) lowest = Math.min(lowest, LOG_LEVELS.indexOf(peer.logLevel));
    }
    return Number.isFinite(lowest) ? LOG_LEVELS[lowest] : undefined;
  }

  /**
   * Records a subscription to `server`'s own `uri`, which `peer` knows as `exposedUri` (a
   * rewritten URI when two servers offer the same one); true when it is the first for that
   * resource (subscribe upstream).
   */
  subscribe(server: string, uri: string, peer: ClientPeer, exposedUri = uri): boolean {
    const key = `${server}\n${uri}`;
    let peers = this.#subscriptions.get(key);
    const first = !peers;
    if (!peers) this.#subscriptions.set(key, peers = new Map());
    peers.set(peer, exposedUri);
    return first;
  }

  /** Drops a subscription; true when it was the last for that resource (unsubscribe upstream). */
  unsubscribe(server: string, uri: string, peer: ClientPeer): boolean {
    const key = `${server}\n${uri}`;
    const peers = this.#subscriptions.get(key);
    if (!peers?.delete(peer)) return false;
    if (peers.size > 0) return false;
    this.#subscriptions.delete(key);
    return true;
  }

  /** The resources of `server` some session subscribed to (to subscribe again on reconnect). */
  subscribedUris(server: string): string[] {
    const uris: string[] = [];
    for (const key of this.#subscriptions.keys()) {
      const [s, uri] = key.split("\n", 2);
      if (s === server) uris.push(uri);
    }
    return uris;
  }

  /** Delivers `notifications/resources/updated` to the sessions that subscribed to the URI. */
  resourceUpdated(server: string, params: Json): void {
    const peers = this.#subscriptions.get(`${server}\n${String(params.uri)}`);
    for (const [peer, uri] of peers ?? []) {
      if (!peer.closed) peer.notify("notifications/resources/updated", { ...params, uri });
    }
  }

  /** Sends a notification to every session (list changes). */
  broadcast(method: string, params: Json = {}): void {
    for (const peer of this.#peers) if (!peer.closed) peer.notify(method, params);
  }
}
