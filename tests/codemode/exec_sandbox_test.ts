import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CliResult,
  makeScratchDir,
  runCli,
  type ScratchDir,
  writeConfig,
} from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";

const CANARY = `canary-${crypto.randomUUID()}`;

interface Setup extends AsyncDisposable {
  dir: ScratchDir;
  /** A JSON file and a text file holding the canary. */
  canaryJson: string;
  canaryText: string;
  /** A loopback server the program must not reach; counts its hits. */
  trapPort: number;
  trapHits: () => number;
  exec(program: string): Promise<CliResult>;
}

async function setup(): Promise<Setup> {
  const dir = await makeScratchDir();
  const web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const canaryJson = join(dir.path, "secret.json");
  const canaryText = join(dir.path, "secret.ts");
  await Deno.writeTextFile(canaryJson, JSON.stringify({ secret: CANARY }));
  await Deno.writeTextFile(canaryText, `this is not TypeScript ${CANARY}\n`);
  let hits = 0;
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const trap = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: listening.resolve },
    () => {
      hits++;
      return new Response(CANARY);
    },
  );
  const { port } = await listening.promise;
  return {
    dir,
    canaryJson,
    canaryText,
    trapPort: port,
    trapHits: () => hits,
    exec: (program) =>
      runCli(["exec", "--config", config, program], {
        home: dir,
        env: { TOOLSCRIPT_SPEC_CANARY: CANARY },
        // Type-checking on a loaded machine can take a while.
        timeoutMs: 120_000,
      }),
    async [Symbol.asyncDispose]() {
      await trap.shutdown();
      await web.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

function assertNoCanary(result: CliResult): void {
  assert.ok(!result.stdout.includes(CANARY), `canary on stdout:\n${result.stdout}`);
  assert.ok(!result.stderr.includes(CANARY), `canary on stderr:\n${result.stderr}`);
}

Deno.test("a program cannot read or write files, read env, reach other ports, spawn, load FFI or query the system", async () => {
  await using s = await setup();
  const written = join(s.dir.path, "written.txt");
  const program = `import { tools } from "toolscript";
const attempts: Record<string, () => unknown> = {
  readFile: () => Deno.readTextFile(${JSON.stringify(s.canaryJson)}),
  readProcEnviron: () => Deno.readTextFile("/proc/self/environ"),
  writeFile: () => Deno.writeTextFile(${JSON.stringify(written)}, "x"),
  envGet: () => Deno.env.get("TOOLSCRIPT_SPEC_CANARY"),
  envAll: () => JSON.stringify(Deno.env.toObject()),
  fetchOtherPort: () => fetch("http://127.0.0.1:${s.trapPort}/").then((r) => r.text()),
  connectOtherPort: () => Deno.connect({ hostname: "127.0.0.1", port: ${s.trapPort} }),
  spawn: () => new Deno.Command("/bin/sh", { args: ["-c", "echo spawned"] }).output(),
  ffi: () => Deno.dlopen("libc.so.6", {}),
  system: () => Deno.hostname(),
  dynamicImport: () => import(["", ${
    JSON.stringify(s.canaryJson.slice(1))
  }].join("/"), { with: { type: "json" } }),
  remoteImport: () => import(["https:", "", "esm.sh", "preact"].join("/")),
  localStorage: () => localStorage.setItem("k", "v"),
  cacheStorage: () => caches.open("c"),
};
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    const value = await attempt();
    console.log("LEAK", name, String(value).slice(0, 200));
  } catch (error) {
    const why = /Requires \\w+ access/.test((error as Error).message) ? "permission" : "other";
    console.log("denied", name, why);
  }
}
console.log("tool", await tools.web.echo({ text: "still works" }));
`;
  const result = await s.exec(program);
  assert.equal(result.code, 0, result.stderr);
  assertNoCanary(result);
  assert.doesNotMatch(result.stdout, /LEAK/);
  for (
    const name of [
      "readFile",
      "readProcEnviron",
      "writeFile",
      "envGet",
      "envAll",
      "fetchOtherPort",
      "connectOtherPort",
      "spawn",
      "ffi",
      "system",
      // Refused by the import map first; the refused path then needs read access too.
      "dynamicImport",
      "remoteImport",
    ]
  ) {
    assert.match(result.stdout, new RegExp(`^denied ${name} permission$`, "m"));
  }
  for (const name of ["localStorage", "cacheStorage"]) {
    assert.match(result.stdout, new RegExp(`^denied ${name} other$`, "m"));
  }
  assert.match(result.stdout, /^tool echo: still works$/m);
  assert.equal(s.trapHits(), 0);
  await assert.rejects(Deno.stat(written), Deno.errors.NotFound);
});

Deno.test("a program that statically imports a local file is refused before it runs", async () => {
  await using s = await setup();
  const program = `import data from ${JSON.stringify(s.canaryJson)} with { type: "json" };
console.log("ran", JSON.stringify(data));
`;
  const result = await s.exec(program);
  assert.equal(result.code, 1);
  assertNoCanary(result);
  assert.doesNotMatch(result.stdout, /ran/);
  assert.match(result.stderr, /may import only "toolscript"/);
  assert.ok(result.stderr.includes(s.canaryJson), result.stderr);
});

Deno.test("a program cannot make the type checker quote a local file", async () => {
  await using s = await setup();
  const program = `/// <reference path=${JSON.stringify(s.canaryText)} />
console.log("ran");
`;
  const result = await s.exec(program);
  assert.equal(result.code, 1);
  assertNoCanary(result);
  assert.match(result.stderr, /may import only "toolscript"/);
});

Deno.test("a program that imports packages or URLs is refused before it runs", async () => {
  await using s = await setup();
  // Deno stops at the first refused import, so each gets its own run.
  const refusals = {
    "https://esm.sh/preact":
      /may import only "toolscript"; it also imports "https:\/\/esm\.sh\/preact"/,
    "node:fs": /may import only "toolscript"; it also imports "node:fs"/,
    "npm:left-pad": /npm specifiers were requested; but --no-npm is specified/,
    "jsr:@std/path": /--no-remote is specified/,
  };
  await Promise.all(
    Object.entries(refusals).map(async ([specifier, refusal]) => {
      const result = await s.exec(`import ${JSON.stringify(specifier)};\nconsole.log("ran");\n`);
      assert.equal(result.code, 1, specifier);
      assert.equal(result.stdout, "", specifier);
      assert.match(result.stderr, refusal);
    }),
  );
});
