/**
 * Issue 12 items 1, 10, 13 against the real `exec`: the program has no network permission at
 * all (it cannot listen on the gateway's port, connect to it or anywhere else), cannot load
 * modules beyond its own at load time or at run time, cannot allocate without bound, does not
 * outlive its deadline when its parent is SIGKILLed, and never sees the gateway token, which
 * no file ever holds. The legitimate use still works: tool calls relayed by the parent, output
 * passed through in order.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CliResult,
  makeScratchDir,
  runCli,
  type ScratchDir,
  spawnCli,
  writeConfig,
} from "../_helpers.ts";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../fixtures/http_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

/** Type-checking on a loaded machine can take a while; this only bounds a hang. */
const RUN_TIMEOUT_MS = 120_000;

interface World extends AsyncDisposable {
  dir: ScratchDir;
  /** Temp dir of the CLI (its `TMPDIR`), so a spec can look at what `exec` writes there. */
  tmp: string;
  web: HttpMcpServerHandle;
  config: string;
  /** Canary gateway token of the running gateway. */
  token: string;
  /** `TOOLSCRIPT_GATEWAY_URL` of the running gateway. */
  gatewayUrl: string;
  gatewayPort: number;
  /** A loopback server the program must not reach; counts its hits. */
  trapPort: number;
  trapHits: () => number;
  /** `exec` against the running gateway. */
  exec(program: string, args?: string[]): Promise<CliResult>;
}

async function startWorld(): Promise<World> {
  const dir = await makeScratchDir();
  const tmp = join(dir.path, "tmp");
  await Deno.mkdir(tmp);
  const web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: { web: { type: "http", url: web.url }, local: stdioServerCommand() },
  });
  const token = `canary-gateway-token-${crypto.randomUUID()}`;
  const gateway = spawnCli(["gateway", "--config", config, "--port", "0"], {
    home: dir,
    env: { TOOLSCRIPT_GATEWAY_TOKEN: token, TMPDIR: tmp },
  });
  const [, gatewayUrl] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  let hits = 0;
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const trap = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: listening.resolve },
    () => {
      hits++;
      return new Response(token);
    },
  );
  const { port: trapPort } = await listening.promise;
  const env = { TOOLSCRIPT_GATEWAY_URL: gatewayUrl, TOOLSCRIPT_GATEWAY_TOKEN: token, TMPDIR: tmp };
  return {
    dir,
    tmp,
    web,
    config,
    token,
    gatewayUrl,
    gatewayPort: Number(new URL(gatewayUrl).port),
    trapPort,
    trapHits: () => hits,
    exec: (program, args = []) =>
      runCli(["exec", ...args, program], { home: dir, env, timeoutMs: RUN_TIMEOUT_MS }),
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await trap.shutdown();
      await web.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

function assertNoToken(world: World, result: CliResult): void {
  assert.ok(!result.stdout.includes(world.token), `token on stdout:\n${result.stdout}`);
  assert.ok(!result.stderr.includes(world.token), `token on stderr:\n${result.stderr}`);
}

/** Every file under `dir` whose content holds `secret`. */
async function filesHolding(dir: string, secret: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string, depth: number) => {
    if (depth > 20) return;
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      if (entry.isDirectory) await walk(child, depth + 1);
      else if (entry.isFile) {
        const text = await Deno.readTextFile(child).catch(() => "");
        if (text.includes(secret)) found.push(child);
      }
    }
  };
  await walk(dir, 0);
  return found;
}

/** Whether process `pid` still runs (a zombie does not). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

/** Waits until `pid` is gone, checking every 100 ms for at most `limitMs`; true if it went. */
async function waitUntilGone(pid: number, limitMs: number): Promise<boolean> {
  for (let waited = 0; waited <= limitMs; waited += 100) {
    if (!await isRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

Deno.test("a program can neither listen nor connect anywhere, the gateway's port included", async () => {
  await using world = await startWorld();
  const gateway = `{ hostname: "127.0.0.1", port: ${world.gatewayPort} }`;
  const trap = `{ hostname: "127.0.0.1", port: ${world.trapPort} }`;
  const program = `import { tools } from "toolscript";
const attempts: Record<string, () => unknown> = {
  listenGatewayPort: () => Deno.listen(${gateway}),
  listenAnyPort: () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  serve: () => Deno.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response("x")),
  listenDatagram: () => Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" }),
  connectGateway: () => Deno.connect(${gateway}),
  fetchGateway: () => fetch(${JSON.stringify(world.gatewayUrl)}, { method: "POST" }),
  fetchToolsModule: () => fetch(${
    JSON.stringify(new URL("/runtime/tools.ts", world.gatewayUrl).href)
  }),
  connectElsewhere: () => Deno.connect(${trap}),
  fetchElsewhere: () => fetch("http://127.0.0.1:${world.trapPort}/"),
  resolveDns: () => Deno.resolveDns("example.com", "A"),
};
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    await attempt();
    console.log("LEAK", name);
  } catch (error) {
    console.log("denied", name, error instanceof Deno.errors.NotCapable ? "permission" : "other");
  }
}
const token = (globalThis as { __TOOLSCRIPT_GATEWAY_TOKEN__?: unknown }).__TOOLSCRIPT_GATEWAY_TOKEN__;
console.log("token", String(token));
console.log("tool", await tools.web.echo({ text: "still works" }));
`;
  const result = await world.exec(program);
  assert.equal(result.code, 0, result.stderr);
  assertNoToken(world, result);
  assert.doesNotMatch(result.stdout, /LEAK/);
  for (
    const name of [
      "listenGatewayPort",
      "listenAnyPort",
      "serve",
      "connectGateway",
      "fetchGateway",
      "fetchToolsModule",
      "connectElsewhere",
      "fetchElsewhere",
      "resolveDns",
    ]
  ) {
    assert.match(result.stdout, new RegExp(`^denied ${name} permission$`, "m"));
  }
  // Unstable without --unstable-net: not even there to be denied.
  assert.match(result.stdout, /^denied listenDatagram (permission|other)$/m);
  assert.match(result.stdout, /^token undefined$/m);
  assert.match(result.stdout, /^tool echo: still works$/m);
  assert.equal(world.trapHits(), 0);
});

Deno.test("computed imports of builtins, files, packages and URLs are refused at run time", async () => {
  await using world = await startWorld();
  const secret = join(world.dir.path, "secret.json");
  await Deno.writeTextFile(secret, JSON.stringify({ secret: world.token }));
  const program = `const secretPath = ${JSON.stringify(secret)};
const attempts: Record<string, () => Promise<unknown>> = {
  nodeFs: () => import("node:" + "fs"),
  nodeProcess: () => import(["node", "process"].join(":")),
  filePath: () => import(secretPath, { with: { type: "json" } }),
  fileUrl: () => import("file://" + secretPath, { with: { type: "json" } }),
  relativeEscape: () => import("../".repeat(12) + secretPath.slice(1), { with: { type: "json" } }),
  npm: () => import("npm:" + "left-pad"),
  jsr: () => import("jsr:" + "@std/path"),
  https: () => import("https:" + "//esm.sh/preact"),
  dataModule: () => import("data:text/javascript," + encodeURIComponent('export * from "node:fs"')),
};
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    const value = await attempt();
    console.log("LEAK", name, JSON.stringify(value));
  } catch {
    console.log("denied", name);
  }
}
`;
  const result = await world.exec(program);
  assert.equal(result.code, 0, result.stderr);
  assertNoToken(world, result);
  assert.doesNotMatch(result.stdout, /LEAK/);
  for (const name of ["nodeFs", "nodeProcess", "filePath", "fileUrl", "relativeEscape"]) {
    assert.match(result.stdout, new RegExp(`^denied ${name}$`, "m"));
  }
  for (const name of ["npm", "jsr", "https", "dataModule"]) {
    assert.match(result.stdout, new RegExp(`^denied ${name}$`, "m"));
  }
});

Deno.test("a static import of a local file is refused before the program runs, without reading it", async () => {
  await using world = await startWorld();
  const credentials = join(world.dir.path, "credentials");
  await Deno.mkdir(credentials);
  const secret = join(credentials, "x.json");
  await Deno.writeTextFile(secret, JSON.stringify({ accessToken: world.token }));
  const program = `import { tools } from "toolscript";
import x from ${JSON.stringify(secret)} with { type: "json" };
await tools.web.echo({ text: "must not run" });
console.log("ran", JSON.stringify(x));
`;
  const result = await world.exec(program);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assertNoToken(world, result);
  assert.match(result.stderr, /may import only "toolscript"; it also imports "file:\/\/\//);
  assert.ok(result.stderr.includes(secret), result.stderr);
});

Deno.test("6 GiB of ArrayBuffers cannot be allocated: the program fails with exit 1", async () => {
  await using world = await startWorld();
  const program = `const buffers: ArrayBuffer[] = [];
for (let i = 0; i < 6 * 4; i++) {
  const buffer = new ArrayBuffer(256 * 2 ** 20);
  new Uint8Array(buffer).fill(1, 0, 1);
  buffers.push(buffer);
}
console.log("allocated", buffers.length / 4, "GiB");
`;
  const result = await world.exec(program);
  assert.equal(result.code, 1, result.stdout);
  assert.doesNotMatch(result.stdout, /allocated/);
  assert.match(result.stderr, /RangeError/);
});

for (
  const [what, loop, timeoutSeconds] of [
    // Busy: only a kill from outside can stop it, and the parent is gone.
    ["a busy program dies at its deadline", "for (;;) { /* spin */ }", 30],
    // Idle: it notices its stdin closing long before the (far) deadline.
    ["an idle program exits when its stdin closes", "setInterval(() => {}, 1000);", 300],
  ] as const
) {
  Deno.test(`exec SIGKILLed: ${what}`, async () => {
    await using world = await startWorld();
    const program = `console.log("pid", Deno.pid);\n${loop}\n`;
    await using exec = spawnCli(["exec", "--timeout", String(timeoutSeconds), program], {
      home: world.dir,
      env: {
        TOOLSCRIPT_GATEWAY_URL: world.gatewayUrl,
        TOOLSCRIPT_GATEWAY_TOKEN: world.token,
        TMPDIR: world.tmp,
      },
    });
    const [, pid] = await exec.waitForLine(/^pid (\d+)$/, { timeoutMs: RUN_TIMEOUT_MS });
    assert.ok(await isRunning(Number(pid)), "the program runs");
    exec.kill("SIGKILL");
    await exec.status;
    // Bounded: past the busy program's deadline (which includes type-checking), long before
    // the idle one's.
    const gone = await waitUntilGone(Number(pid), 60_000);
    if (!gone) Deno.kill(Number(pid), "SIGKILL");
    assert.ok(gone, `program ${pid} outlived its parent`);
  });
}

Deno.test("no file holds the gateway token during or after a run", async () => {
  await using world = await startWorld();
  const program = `import { tools } from "toolscript";
console.log("calling");
await tools.local.slow({ ms: 60000 });
`;
  await using exec = spawnCli(["exec", "--timeout", "120", program], {
    home: world.dir,
    env: {
      TOOLSCRIPT_GATEWAY_URL: world.gatewayUrl,
      TOOLSCRIPT_GATEWAY_TOKEN: world.token,
      TMPDIR: world.tmp,
    },
  });
  await exec.waitForLine(/^calling$/, { timeoutMs: RUN_TIMEOUT_MS });
  const during = [...Deno.readDirSync(world.tmp)].map((e) => e.name);
  assert.ok(during.some((name) => name.startsWith("toolscript-exec-")), `tmp: ${during}`);
  assert.deepEqual(await filesHolding(world.tmp, world.token), []);
  exec.kill("SIGTERM");
  await exec.status;
  assert.deepEqual(await filesHolding(world.tmp, world.token), []);
  assert.ok(!exec.stdout().includes(world.token) && !exec.stderr().includes(world.token));
});

Deno.test("a program calls two tools, prints in order with its calls, and sees ToolError for a locked server", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  await using locked = await startHttpMcpServer({
    name: "locked",
    auth: { verify: () => Promise.resolve(undefined) },
  });
  const config = await writeConfig(dir, {
    mcpServers: {
      web: { type: "http", url: web.url },
      locked: { type: "http", url: locked.url },
    },
  });
  const program = `import { tools, ToolError } from "toolscript";
console.log("one");
console.error("err one");
console.log(await tools.web.echo({ text: "two" }));
await Deno.stdout.write(new TextEncoder().encode("three "));
const { sum } = await tools.web.add({ a: 2, b: 2 });
console.log(sum);
const [a, b] = await Promise.all([tools.web.echo({ text: "x" }), tools.web.echo({ text: "y" })]);
console.log(a, b);
try {
  await tools.locked.authenticate();
} catch (error) {
  console.log(error instanceof ToolError, (error as Error).message);
}
// A frame written by the program itself is just one more tool call; junk after a NUL is output.
const marker = "\\u0000toolscript-relay\\u0000";
await Deno.stdout.write(new TextEncoder().encode("nul:\\u0000:end\\n" + marker + "not json\\n"));
console.error("err two");
`;
  const result = await runCli(["exec", "--config", config, program], {
    home: dir,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.deepEqual(lines.slice(0, 4), ["one", "echo: two", "three 4", "echo: x echo: y"]);
  assert.match(lines[4], /^true .*toolscript auth locked/);
  assert.equal(lines[5], "nul:\u0000:end");
  assert.equal(lines[6], "\u0000toolscript-relay\u0000not json");
  assert.match(result.stderr, /err one\n(.|\n)*err two/);
});

// Issue 15 item 3: runs reuse directories under `$TMPDIR/toolscript-exec-<uid>/` so that Deno's
// type-check cache applies. Those directories must stay private and must never let one run see
// another's files, nor let a planted or stale file run unchecked.

/** The run root `exec` uses with the world's `TMPDIR`. */
function runRoot(world: World): string {
  return join(world.tmp, `toolscript-exec-${Deno.uid()}`);
}

/** Every entry under `dir` (depth-bounded), with its lstat. */
async function walkEntries(dir: string): Promise<{ path: string; info: Deno.FileInfo }[]> {
  const found: { path: string; info: Deno.FileInfo }[] = [];
  const walk = async (path: string, depth: number) => {
    if (depth > 6) return;
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      const info = await Deno.lstat(child);
      found.push({ path: child, info });
      if (info.isDirectory) await walk(child, depth + 1);
    }
  };
  await walk(dir, 0);
  return found;
}

Deno.test("reused run directories are private (0700 / 0600, the user's, no links) and keep no program after the run", async () => {
  await using world = await startWorld();
  const marker = `program-marker-${crypto.randomUUID()}`;
  const program = `import { tools } from "toolscript";
// ${marker}
console.log(await tools.web.echo({ text: "one" }));
`;
  const result = await world.exec(program);
  assert.equal(result.code, 0, result.stderr);
  const root = await Deno.lstat(runRoot(world));
  assert.ok(root.isDirectory && !root.isSymlink);
  assert.equal(root.mode! & 0o777, 0o700);
  const entries = await walkEntries(runRoot(world));
  assert.ok(entries.some((e) => e.path.endsWith("tools.ts")), "a run left its slot");
  for (const { path, info } of entries) {
    assert.ok(!info.isSymlink, `${path} is a link`);
    assert.equal(info.uid, Deno.uid(), `${path} is another user's`);
    assert.equal(info.mode! & 0o777, info.isDirectory ? 0o700 : 0o600, `mode of ${path}`);
    assert.ok(!path.endsWith("program.ts"), `${path} outlived its run`);
  }
  assert.deepEqual(await filesHolding(world.tmp, marker), []);
  assert.deepEqual(await filesHolding(world.tmp, world.token), []);
});

Deno.test("a program cannot load the files of another run that is going on", async () => {
  await using world = await startWorld();
  const marker = `other-run-${crypto.randomUUID()}`;
  const other = `import { tools } from "toolscript";
export const secret = "${marker}";
console.log("calling");
await tools.local.slow({ ms: 60000 });
`;
  await using first = spawnCli(["exec", "--timeout", "120", other], {
    home: world.dir,
    env: {
      TOOLSCRIPT_GATEWAY_URL: world.gatewayUrl,
      TOOLSCRIPT_GATEWAY_TOKEN: world.token,
      TMPDIR: world.tmp,
    },
  });
  await first.waitForLine(/^calling$/, { timeoutMs: RUN_TIMEOUT_MS });
  const programs = (await walkEntries(runRoot(world)))
    .map((e) => e.path).filter((path) => path.endsWith("program.ts"));
  assert.equal(programs.length, 1, `the first run's program: ${programs}`);
  const [path] = programs;
  const dir = path.slice(0, -"/program.ts".length);
  const siblings = ["program.ts", "tools.ts", "main.ts"].map((name) => join(dir, name));
  // Loaded statically: refused before the program runs.
  const statically = await world.exec(`import { secret } from ${JSON.stringify(path)};
console.log("LEAK", secret);
`);
  assert.equal(statically.code, 1);
  assert.doesNotMatch(statically.stdout, /LEAK/);
  assert.match(statically.stderr, /may import only "toolscript"/);
  // Computed at run time: refused too, for each of the other run's modules.
  const computed = await world.exec(`const paths: string[] = ${JSON.stringify(siblings)};
for (const path of paths) {
  try {
    const module = await import(["file://", path].join(""));
    console.log("LEAK", JSON.stringify(module));
  } catch {
    console.log("refused");
  }
}
`);
  assert.equal(computed.code, 0, computed.stderr);
  assert.doesNotMatch(computed.stdout, /LEAK/);
  assert.equal(computed.stdout, "refused\n".repeat(siblings.length));
  // Named in a type reference: the checker does not read (nor quote) it either.
  const referenced = await world.exec(`/// <reference path=${JSON.stringify(path)} />
console.log("RAN");
`);
  assert.equal(referenced.code, 1);
  assert.doesNotMatch(referenced.stdout, /RAN/);
  assert.match(referenced.stderr, /may import only "toolscript"/);
  for (const result of [statically, computed, referenced]) {
    assert.ok(!(result.stdout + result.stderr).includes(marker), "the other run's text leaked");
    assertNoToken(world, result);
  }
  first.kill("SIGTERM");
  await first.status;
});

Deno.test("a run root that is a symbolic link is not used, and nothing is written where it points", async () => {
  await using world = await startWorld();
  const target = join(world.dir.path, "elsewhere");
  await Deno.mkdir(target, { mode: 0o700 });
  await Deno.symlink(target, runRoot(world));
  const result = await world.exec(`import { tools } from "toolscript";
console.log(await tools.web.echo({ text: "still works" }));
`);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "echo: still works\n");
  assert.deepEqual([...Deno.readDirSync(target)], []);
  assert.ok((await Deno.lstat(runRoot(world))).isSymlink, "the link was left alone");
});

Deno.test("a file planted in a reused run directory is replaced, and a changed program is checked again", async () => {
  await using world = await startWorld();
  const canary = `planted-${crypto.randomUUID()}`;
  const program = `import { tools } from "toolscript";
console.log(await tools.web.echo({ text: "real" }));
`;
  const first = await world.exec(program);
  assert.equal(first.code, 0, first.stderr);
  const slots = (await walkEntries(runRoot(world)))
    .filter((e) => e.path.endsWith("/tools.ts")).map((e) => e.path);
  assert.ok(slots.length >= 1);
  const planted = `export const tools = { web: { echo: () => "${canary}" } };\n` +
    `export class ToolError extends Error {}\n`;
  for (const path of slots) await Deno.writeTextFile(path, planted);
  const again = await world.exec(program);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, "echo: real\n");
  assert.ok(!again.stdout.includes(canary));
  // Same directory, changed program: a type error is still found and nothing runs.
  const broken = await world.exec(`import { tools } from "toolscript";
console.log("RAN");
await tools.web.echo({ text: 42 });
`);
  assert.equal(broken.code, 1);
  assert.doesNotMatch(broken.stdout, /RAN/);
  assert.match(broken.stderr, /TS2322/);
});
