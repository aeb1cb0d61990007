/**
 * Private to tests/security: a small MCP resource + authorization server on 127.0.0.1 that
 * poses as a remote https server (`https://<name>.test`), whose every OAuth answer a spec can
 * shape into an attack, and the fetch seam that routes those names to it. Nothing is stubbed:
 * the code under test gets a `fetch` that forwards to real sockets (STYLE section 7).
 */

/** A server listening on 127.0.0.1 that records every request it gets. */
export interface LoopbackServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** `METHOD /path` of each request, in order. */
  requests: string[];
}

/** Starts `handler` on 127.0.0.1, port 0, recording requests. */
export async function serveLoopback(
  handler: (request: Request, url: URL) => Response | Promise<Response>,
): Promise<LoopbackServer> {
  const requests: string[] = [];
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr) },
    (request) => {
      const url = new URL(request.url);
      requests.push(`${request.method} ${url.pathname}`);
      return handler(request, url);
    },
  );
  const addr = await ready.promise;
  return {
    origin: `http://127.0.0.1:${addr.port}`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A canary on loopback: any request it gets is an attack that worked. */
export function startCanary(): Promise<LoopbackServer> {
  return serveLoopback(() => new Response("canary", { status: 200 }));
}

/**
 * A fetch that sends requests for each `routes` origin (e.g. `https://mcp.remote.test`) to
 * the loopback origin it maps to, path and query kept, and every other request unchanged.
 */
export function routingFetch(routes: Record<string, string>): typeof fetch {
  return (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const target = routes[url.origin];
    if (!target) return fetch(input, init);
    const routed = new URL(url.pathname + url.search, target);
    return input instanceof Request ? fetch(new Request(routed, input), init) : fetch(routed, init);
  };
}

/** How a {@link startRemoteOAuth} server answers; each field overrides the honest answer. */
export interface RemoteShape {
  /** `resource_metadata` of the 401 challenge. */
  resourceMetadataUrl?: string;
  /** Merged into the RFC 9728 protected resource metadata. */
  resourceMetadata?: Record<string, unknown>;
  /** Merged into the RFC 8414 metadata; a field set to `undefined` is left out. */
  metadata?: Record<string, unknown>;
  /** Merged into the RFC 8628 device authorization response. */
  device?: Record<string, unknown>;
}

/** A running fake remote server. */
export interface RemoteOAuthServer extends LoopbackServer {
  /** The origin it poses as, e.g. `https://mcp.remote.test`. */
  publicOrigin: string;
  /** Its MCP endpoint under the public origin. */
  mcpUrl: string;
}

/**
 * Starts a server that answers as the MCP server *and* the authorization server of
 * `publicOrigin`: `/mcp` answers 401 with a Bearer challenge, the well-known URLs serve
 * metadata naming `publicOrigin`, `/register` registers anyone, `/authorize` redirects at
 * once with a code and the request's state, `/device` starts a device login, `/token` issues
 * tokens for any code or device code. `shape` turns any of that into an attack.
 */
export async function startRemoteOAuth(
  publicOrigin: string,
  shape: RemoteShape = {},
): Promise<RemoteOAuthServer> {
  const self = publicOrigin;
  const server = await serveLoopback(async (request, url) => {
    switch (`${request.method} ${url.pathname}`) {
      case "POST /mcp":
      case "GET /mcp": {
        const metadataUrl = shape.resourceMetadataUrl ??
          `${self}/.well-known/oauth-protected-resource/mcp`;
        return new Response("unauthorized", {
          status: 401,
          headers: { "www-authenticate": `Bearer resource_metadata="${metadataUrl}"` },
        });
      }
      case "GET /.well-known/oauth-protected-resource/mcp":
        return Response.json({
          resource: `${self}/mcp`,
          authorization_servers: [self],
          ...shape.resourceMetadata,
        });
      case "GET /.well-known/oauth-authorization-server":
        return Response.json({
          issuer: self,
          authorization_endpoint: `${self}/authorize`,
          token_endpoint: `${self}/token`,
          registration_endpoint: `${self}/register`,
          device_authorization_endpoint: `${self}/device`,
          response_types_supported: ["code"],
          grant_types_supported: [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
          ],
          token_endpoint_auth_methods_supported: ["none"],
          code_challenge_methods_supported: ["S256"],
          ...shape.metadata,
        });
      case "POST /register": {
        const body = await request.json();
        return Response.json({ ...body, client_id: "remote-client" }, { status: 201 });
      }
      case "GET /authorize": {
        const back = new URL(url.searchParams.get("redirect_uri")!);
        back.searchParams.set("code", "remote-code");
        back.searchParams.set("state", url.searchParams.get("state") ?? "");
        return new Response(null, { status: 302, headers: { location: back.href } });
      }
      case "POST /device":
        return Response.json({
          device_code: "remote-device-code",
          user_code: "WDJB-MJHT",
          verification_uri: `${self}/activate`,
          verification_uri_complete: `${self}/activate?user_code=WDJB-MJHT`,
          expires_in: 60,
          interval: 1,
          ...shape.device,
        });
      case "POST /token":
        await request.body?.cancel();
        return Response.json({
          access_token: "remote-access-token",
          refresh_token: "remote-refresh-token",
          token_type: "Bearer",
          expires_in: 3600,
        });
      default:
        return new Response("not found", { status: 404 });
    }
  });
  return { ...server, publicOrigin, mcpUrl: `${publicOrigin}/mcp` };
}
