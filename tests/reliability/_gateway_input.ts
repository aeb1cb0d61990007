/**
 * Bad input to the gateway's own endpoint: bodies that are not JSON or not JSON-RPC, bodies
 * over the size limit, unknown tools and servers, foreign origins, a missing or wrong gateway
 * token. Each case checks the refusal (status, JSON-RPC error) and that the gateway still
 * serves the connected client.
 */
import assert from "node:assert/strict";
import { writeConfig } from "../_helpers.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";
import type { FaultCase, FaultLog } from "./_fault_log.ts";
import { type GatewayUnderTest, startGateway, textOf } from "./_gateway_client.ts";

/** A raw HTTP answer of the gateway. */
interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Options of {@link GatewayInputBench.send}. */
interface SendOptions {
  method?: string;
  /** Default `/mcp`. */
  path?: string;
  body?: string;
  /** Extra headers; `authorization` defaults to the right gateway token. */
  headers?: Record<string, string>;
  /** Send the request in the client's MCP session. */
  inSession?: boolean;
}

/** What the gateway input cases work with. `await using` stops the gateway. */
export interface GatewayInputBench extends AsyncDisposable {
  gateway: GatewayUnderTest;
  /** Sends a raw request to the gateway and captures the answer in the log. */
  send(label: string, options?: SendOptions): Promise<RawAnswer>;
}

/** The SDK's default limit on a request body, 4 MiB. */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** Starts a gateway with a token and one stdio server, and a client connected to it. */
export async function openGatewayInputBench(
  dir: string,
  log: FaultLog,
): Promise<GatewayInputBench> {
  const configPath = await writeConfig(dir, { mcpServers: { local: stdioServerCommand() } });
  const gateway = await startGateway({
    configPath,
    home: dir,
    gatewayToken: log.canary("gateway"),
    log,
    label: "gateway input",
  });
  const sessionId = (gateway.client.transport as { sessionId?: string } | undefined)?.sessionId;
  assert.ok(sessionId, "the client has an MCP session");

  async function send(label: string, options: SendOptions = {}): Promise<RawAnswer> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: gateway.authorization,
      ...(options.inSession ? { "mcp-session-id": sessionId! } : {}),
      ...options.headers,
    };
    const response = await fetch(new URL(options.path ?? "/mcp", gateway.url), {
      method: options.method ?? "POST",
      headers,
      body: options.body,
    });
    const text = await response.text();
    log.capture(`gateway input: ${label} (HTTP ${response.status})`, text);
    return { status: response.status, headers: response.headers, text };
  }

  return {
    gateway,
    send,
    async [Symbol.asyncDispose]() {
      const status = await gateway.stop();
      assert.equal(
        status.code,
        0,
        `the gateway did not stop cleanly:\n${gateway.process.stderr()}`,
      );
    },
  };
}

/** A JSON-RPC `tools/call` request body. */
function toolCall(name: string, args: Record<string, unknown> = {}): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 99,
    method: "tools/call",
    params: { name, arguments: args },
  });
}

/** Asserts a raw answer is a JSON-RPC error with `status` and, when given, `code`. */
function assertRefused(answer: RawAnswer, status: number, message: RegExp, code?: number): void {
  assert.equal(answer.status, status, answer.text);
  const body = JSON.parse(answer.text) as { error?: { code: number; message: string } };
  assert.ok(body.error, `a JSON-RPC error body: ${answer.text}`);
  if (code !== undefined) assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
}

/** Asserts a tool call the client made was refused with an error that matches `pattern`. */
async function assertCallRefused(
  gateway: GatewayUnderTest,
  name: string,
  args: Record<string, unknown>,
  pattern: RegExp,
): Promise<void> {
  let text: string;
  try {
    const result = await gateway.call(name, args);
    assert.equal(result.isError, true, `${name} should fail: ${textOf(result)}`);
    text = textOf(result);
  } catch (error) {
    text = String(error);
  }
  assert.match(text, pattern);
}

/** The gateway input cases; after each one the test checks the client is still served. */
export const GATEWAY_INPUT_FAULTS: FaultCase<GatewayInputBench>[] = [
  {
    name: "a body that is not JSON gets 400 with a JSON-RPC parse error",
    async run({ send }) {
      assertRefused(await send("not JSON", { body: "this is {not json" }), 400, /Parse/, -32700);
      const inSession = await send("not JSON in session", { body: "{", inSession: true });
      assertRefused(inSession, 400, /Parse/, -32700);
    },
  },
  {
    name: "JSON that is not a JSON-RPC message gets 400",
    async run({ send }) {
      const answer = await send("not JSON-RPC", { body: '{"hello":"world"}', inSession: true });
      assertRefused(answer, 400, /JSON-RPC|Invalid/, -32700);
    },
  },
  {
    name: "a body that is not declared as JSON gets 415",
    async run({ send }) {
      const answer = await send("text body", {
        body: toolCall("local__echo", { text: "x" }),
        headers: { "content-type": "text/plain" },
        inSession: true,
      });
      assertRefused(answer, 415, /Content-Type/);
    },
  },
  {
    name: "a body over 4 MiB gets 413",
    async run({ send }) {
      const body = toolCall("local__echo", { text: "y".repeat(BODY_LIMIT_BYTES + 1024) });
      assertRefused(await send("oversized body", { body, inSession: true }), 413, /large|size/i);
      assertRefused(await send("oversized new session", { body }), 413, /large|size/i);
    },
  },
  {
    name: "a tool of an unknown server is refused naming the tool",
    async run({ gateway }) {
      await assertCallRefused(
        gateway,
        "nosuch__echo",
        { text: "x" },
        /Unknown tool "nosuch__echo"/,
      );
      await assertCallRefused(gateway, "echo", { text: "x" }, /Unknown tool "echo"/);
    },
  },
  {
    name: "an unknown tool of a known server is refused naming the tool",
    async run({ gateway }) {
      await assertCallRefused(gateway, "local__nosuch", {}, /nosuch/);
    },
  },
  {
    name: "an unknown tool of a known server is refused naming the server and the full name",
    async run({ gateway }) {
      await assertCallRefused(gateway, "local__nosuch", {}, /local__nosuch|server "local"/);
    },
  },
  {
    name: "arguments that break the tool's schema are refused naming the tool",
    async run({ gateway }) {
      await assertCallRefused(gateway, "local__echo", { text: 42 }, /echo/);
    },
  },
  {
    name: "a foreign Origin gets 403 on every route",
    async run({ send }) {
      const origin = { origin: "https://evil.example" };
      const mcp = await send("foreign origin", { body: toolCall("local__echo"), headers: origin });
      assertRefused(mcp, 403, /origin/i);
      const health = await send("foreign origin health", {
        method: "GET",
        path: "/health",
        headers: origin,
      });
      assertRefused(health, 403, /origin/i);
    },
  },
  {
    name: "a missing or wrong gateway token gets 401 with a Bearer challenge",
    async run({ send }) {
      for (const authorization of ["", "Bearer wrong-token", "Basic dXNlcjpwYXNz"]) {
        const answer = await send(`token "${authorization}"`, {
          body: toolCall("local__echo", { text: "x" }),
          headers: { authorization },
          inSession: true,
        });
        assertRefused(answer, 401, /token/i);
        assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer/);
      }
      const health = await send("health without token", {
        method: "GET",
        path: "/health",
        headers: { authorization: "" },
      });
      assertRefused(health, 401, /token/i);
    },
  },
  {
    name: "an unknown session id gets 404",
    async run({ send }) {
      const answer = await send("unknown session", {
        body: toolCall("local__echo", { text: "x" }),
        headers: { "mcp-session-id": crypto.randomUUID() },
      });
      assertRefused(answer, 404, /Session not found/);
    },
  },
];
