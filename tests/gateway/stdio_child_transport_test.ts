/**
 * The gateway's own stdio client transport against a real child process: framing across and
 * within chunks, the line limit, a child that dies mid-call, stderr, environment and working
 * directory, and the close escalation (stdin EOF, SIGTERM, SIGKILL).
 */
import assert from "node:assert/strict";
import {
  StdioChildTransport,
  type StdioChildTransportOptions,
} from "../../src/gateway/stdio_child_transport.ts";
import type { JSONRPCMessage } from "../../src/gateway/jsonrpc.ts";
import { makeScratchDir } from "../_helpers.ts";
import { stdioChildCommand } from "./_stdio_child.ts";

const ANSWER_TIMEOUT_MS = 20_000;

interface Child extends AsyncDisposable {
  transport: StdioChildTransport;
  messages: JSONRPCMessage[];
  errors: Error[];
  stderr: string[];
  closed: Promise<void>;
  /** Sends a request and resolves with the answer's `result`. */
  request(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Resolves when stderr shows `line`. */
  stderrLine(line: string): Promise<void>;
}

async function startChild(
  flags: string[] = [],
  options: Partial<StdioChildTransportOptions> = {},
): Promise<Child> {
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  const stderr: string[] = [];
  const waiting = new Map<string, () => void>();
  const answers = new Map<unknown, (message: Record<string, unknown>) => void>();
  const closed = Promise.withResolvers<void>();
  const transport = new StdioChildTransport({
    ...stdioChildCommand(flags),
    ...options,
    onStderrLine: (line) => {
      stderr.push(line);
      waiting.get(line)?.();
    },
  });
  transport.onmessage = (message) => {
    messages.push(message);
    const id = (message as { id?: unknown }).id;
    if (id !== undefined) answers.get(id)?.(message as Record<string, unknown>);
  };
  transport.onerror = (error) => errors.push(error);
  transport.onclose = () => closed.resolve();
  await transport.start();
  let next = 0;
  return {
    transport,
    messages,
    errors,
    stderr,
    closed: closed.promise,
    async request(method, params = {}) {
      const id = ++next;
      const answer = Promise.withResolvers<Record<string, unknown>>();
      answers.set(id, answer.resolve);
      const timer = setTimeout(
        () => answer.reject(new Error(`no answer to ${method} in ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
      try {
        await transport.send({ jsonrpc: "2.0", id, method, params });
        return (await answer.promise).result as Record<string, unknown>;
      } finally {
        clearTimeout(timer);
      }
    },
    stderrLine(line) {
      if (stderr.includes(line)) return Promise.resolve();
      const seen = Promise.withResolvers<void>();
      waiting.set(line, seen.resolve);
      return within(seen.promise, `stderr line "${line}"`);
    },
    [Symbol.asyncDispose]: () => transport.close(),
  };
}

/** `promise`, or a rejection naming `what` after {@link ANSWER_TIMEOUT_MS}. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no ${what} in ${ANSWER_TIMEOUT_MS} ms`)),
      ANSWER_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function isGone(pid: number): Promise<boolean> {
  return await Deno.stat(`/proc/${pid}`).then(() => false, () => true);
}

Deno.test("messages the child writes in one chunk all arrive, in order, before the answer", async () => {
  await using child = await startChild();
  const result = await child.request("burst", { count: 50 });
  assert.deepEqual(result, { count: 50 });
  const bursts = child.messages.filter((m) => (m as { method?: string }).method === "burst");
  assert.deepEqual(bursts.map((m) => (m as { params?: { n?: number } }).params?.n), [
    ...Array(50).keys(),
  ]);
  assert.deepEqual(child.errors, []);
});

Deno.test("a line written in many pieces arrives as one message", async () => {
  await using child = await startChild();
  const result = await child.request("huge", { bytes: 3 * 1024 * 1024 });
  assert.equal((result.pad as string).length, 3 * 1024 * 1024);
  assert.deepEqual(await child.request("echo", { after: "huge" }), { after: "huge" });
});

Deno.test("a line over the limit is an error that closes the connection and stops the child", async () => {
  await using child = await startChild([], { maxLineBytes: 256 * 1024, closeGraceMs: 5000 });
  const pid = child.transport.pid!;
  await child.transport.send({
    jsonrpc: "2.0",
    id: 1,
    method: "huge",
    params: { bytes: 300 * 1024 },
  });
  await within(child.closed, "onclose");
  assert.equal(child.errors.length, 1, child.errors.join("; "));
  assert.match(child.errors[0].message, /exceeded the stdio line limit of 262144 bytes/);
  assert.ok(await isGone(pid), "the child was stopped");
  await assert.rejects(child.transport.send({ jsonrpc: "2.0", method: "x" }), /Not connected/);
});

Deno.test("a child that exits mid-call is reported with its exit code, then closes", async () => {
  await using child = await startChild();
  await child.stderrLine("second stderr line");
  await child.transport.send({ jsonrpc: "2.0", id: 1, method: "die", params: {} });
  await within(child.closed, "onclose");
  assert.equal(child.errors.length, 1);
  assert.match(child.errors[0].message, /the server process exited with code 3/);
  assert.deepEqual(child.messages, [], "half a line is no message");
});

Deno.test("the child's stderr lines are handed over one by one, and stdout stays clean", async () => {
  await using child = await startChild();
  await child.stderrLine("second stderr line");
  assert.deepEqual(child.stderr.slice(0, 2), ["child ready", "second stderr line"]);
  assert.deepEqual(await child.request("echo", { ok: true }), { ok: true });
  assert.deepEqual(child.errors, []);
});

Deno.test("the child gets the safe variables and the configured env, in the configured cwd", async () => {
  await using dir = await makeScratchDir();
  const canary = `canary-${crypto.randomUUID()}`;
  const inherited: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: dir.path,
    SHELL: "() { echo exported function; }",
    STDIO_CHILD_SECRET: canary,
  };
  await using child = await startChild([], {
    env: { CONFIGURED: "yes", HOME: "/configured/home" },
    cwd: dir.path,
    getEnv: (name) => inherited[name],
  });
  const { env, cwd } = await child.request("env") as { env: Record<string, string>; cwd: string };
  assert.equal(env.PATH, inherited.PATH);
  assert.equal(env.CONFIGURED, "yes");
  assert.equal(env.HOME, "/configured/home", "the configured env wins");
  assert.equal(env.SHELL, undefined, "an exported shell function is not passed on");
  assert.ok(!JSON.stringify(env).includes(canary), "nothing outside the list is inherited");
  assert.equal(cwd, await Deno.realPath(dir.path));
});

Deno.test("close ends stdin and a well-behaved child exits without a signal", async () => {
  const child = await startChild(["--ignore-term"], { closeGraceMs: 10_000 });
  const pid = child.transport.pid!;
  await child.transport.close();
  await within(child.closed, "onclose");
  assert.ok(await isGone(pid));
  assert.ok(!child.stderr.includes("got SIGTERM"), child.stderr.join("\n"));
  assert.deepEqual(child.errors, [], "our own close is no error");
});

Deno.test("close sends SIGTERM to a child that ignores the end of stdin", async () => {
  const child = await startChild(["--ignore-eof"], { closeGraceMs: 300 });
  const pid = child.transport.pid!;
  await child.stderrLine("second stderr line");
  await child.transport.close();
  await within(child.closed, "onclose");
  assert.ok(await isGone(pid));
  assert.deepEqual(child.errors, []);
});

Deno.test("close escalates to SIGKILL for a child that ignores stdin EOF and SIGTERM", async () => {
  const child = await startChild(["--ignore-eof", "--ignore-term"], { closeGraceMs: 1000 });
  const pid = child.transport.pid!;
  await child.stderrLine("second stderr line");
  await child.transport.close();
  await within(child.closed, "onclose");
  assert.ok(await isGone(pid));
  assert.ok(child.stderr.includes("got SIGTERM"), child.stderr.join("\n"));
  assert.deepEqual(child.errors, []);
});

Deno.test("a command that does not exist fails start, naming the command", async () => {
  const transport = new StdioChildTransport({ command: "/nonexistent/toolscript-no-such-child" });
  await assert.rejects(transport.start(), /cannot start "\/nonexistent\/toolscript-no-such-child"/);
  await transport.close();
});
