/**
 * The partners of the transparency specs: the transparent fixture behind an in-process gateway
 * (over HTTP or stdio), and SDK clients that declare sampling, elicitation and roots and answer
 * them, recording what they were asked.
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { validateConfig } from "../../src/config/validate_config.ts";
import { createGateway } from "../../src/gateway/create_gateway.ts";
import { serveGatewayHttp } from "../../src/gateway/serve_http.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import { makeScratchDir } from "../_helpers.ts";
import {
  startTransparentHttpServer,
  transparentStdioCommand,
} from "../fixtures/transparent_server.ts";

/** Which transport the gateway uses to reach the fixture. */
export type UpstreamKind = "http" | "stdio";

/** A gateway in front of the fixture (server name `fx`), serving HTTP on a free port. */
export interface World extends AsyncDisposable {
  url: string;
  gateway: Gateway;
}

/** Starts the fixture and a gateway in front of it. */
export async function startWorld(kind: UpstreamKind): Promise<World> {
  const dir = await makeScratchDir();
  const upstream = kind === "http" ? await startTransparentHttpServer() : undefined;
  const entry = upstream
    ? { type: "http", url: upstream.url }
    : { type: "stdio", ...transparentStdioCommand() };
  const config = validateConfig({ mcpServers: { fx: entry } }, {
    source: "flag",
    env: () => undefined,
  });
  const gateway = createGateway(config, { home: dir.path });
  await gateway.start();
  const server = await serveGatewayHttp(gateway, { host: "127.0.0.1", port: 0 });
  return {
    url: server.url,
    gateway,
    async [Symbol.asyncDispose]() {
      await server.close();
      await gateway.close();
      await upstream?.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** An SDK client of the gateway that answers server-to-client requests. */
export interface TestClient extends AsyncDisposable {
  client: Client;
  /** Every elicitation message it was asked, in order. */
  elicited: string[];
  /** Resolves with the message of the first elicitation the server cancelled. */
  cancelled: Promise<string>;
  /** Log messages received. */
  logs: LoggingMessageNotification["params"][];
  /** URIs of `notifications/resources/updated` received. */
  updated: string[];
  /** Resolves on the next `notifications/resources/updated`. */
  nextUpdate(): Promise<string>;
}

/** Options of {@link connectClient}. */
export interface TestClientOptions {
  /** Default: sampling, elicitation form and URL, roots. */
  capabilities?: ClientCapabilities;
  /** Text of the `answer` field it gives to form elicitations. */
  answer?: string;
}

/** Connects an SDK client to `url`. */
export async function connectClient(
  url: string,
  options: TestClientOptions = {},
): Promise<TestClient> {
  const capabilities = options.capabilities ?? {
    sampling: {},
    elicitation: { form: {}, url: {} },
    roots: { listChanged: true },
  };
  const client = new Client({ name: "spec-client", version: "1.0.0" }, { capabilities });
  const elicited: string[] = [];
  const logs: TestClient["logs"] = [];
  const updated: string[] = [];
  const cancelled = Promise.withResolvers<string>();
  let waiting: ((uri: string) => void) | undefined;
  if (capabilities.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      const content = request.params.messages[0]?.content as { text?: string };
      return {
        role: "assistant",
        model: "spec-model",
        content: { type: "text", text: `reply to ${content.text}` },
      };
    });
  }
  if (capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      elicited.push(request.params.message);
      if (request.params.message === "never mind") {
        // Never answered: waits for the server's cancellation.
        await new Promise((resolve) => extra.signal.addEventListener("abort", resolve));
        cancelled.resolve(request.params.message);
      }
      if (request.params.mode === "url") return { action: "accept" };
      return { action: "accept", content: { answer: options.answer ?? "yes" } };
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler(ListRootsRequestSchema, () => ({
      roots: [{ uri: "file:///spec/root", name: "root" }],
    }));
  }
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updated.push(n.params.uri);
    waiting?.(n.params.uri);
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return {
    client,
    elicited,
    cancelled: cancelled.promise,
    logs,
    updated,
    nextUpdate: () => new Promise((resolve) => waiting = resolve),
    [Symbol.asyncDispose]: () => client.close(),
  };
}

/** The text of a tool result's first content block. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { text?: string }[] }).content;
  return content?.[0]?.text ?? "";
}
