import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir, runCli, type ScratchDir, spawnCli, writeConfig } from "./_helpers.ts";

/** A stand-in for main.ts: behaviour picked by the first argument. */
const FAKE_CLI = `
const [mode, ...rest] = Deno.args;
if (mode === "env") {
  console.log(JSON.stringify(Object.fromEntries(rest.map((k) => [k, Deno.env.get(k) ?? null]))));
} else if (mode === "stdin") {
  console.log("got: " + (await new Response(Deno.stdin.readable).text()));
} else if (mode === "exit") {
  console.log("out");
  console.error("err");
  Deno.exit(Number(rest[0]));
} else if (mode === "serve") {
  console.log("ready at http://127.0.0.1:1234/mcp");
  console.error("log line");
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    for (const line of decoder.decode(chunk).split("\\n").filter(Boolean)) console.log("echo " + line);
  }
  console.log("stdin closed");
} else if (mode === "hang") {
  console.log("hanging");
  setInterval(() => {}, 1000);
}
`;

async function fakeCli(dir: ScratchDir): Promise<string> {
  const path = join(dir.path, "fake_main.ts");
  await Deno.writeTextFile(path, FAKE_CLI);
  return path;
}

Deno.test("makeScratchDir() gives an empty directory that removes itself", async () => {
  let path: string;
  {
    await using dir = await makeScratchDir();
    path = dir.path;
    assert.ok((await Deno.stat(path)).isDirectory);
    await Deno.writeTextFile(join(path, "f"), "x");
  }
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
});

Deno.test("writeConfig() writes toolscript.json and returns its path", async () => {
  await using dir = await makeScratchDir();
  const path = await writeConfig(dir, { mcpServers: { a: { command: "x" } } });
  assert.equal(path, join(dir.path, "toolscript.json"));
  assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), {
    mcpServers: { a: { command: "x" } },
  });
});

Deno.test("runCli() reports the exit code and both output streams", async () => {
  await using dir = await makeScratchDir();
  const result = await runCli(["exit", "3"], { script: await fakeCli(dir) });
  assert.deepEqual(result, { code: 3, stdout: "out\n", stderr: "err\n" });
});

Deno.test("runCli() sets TOOLSCRIPT_HOME and explicit env over the inherited environment", async () => {
  await using dir = await makeScratchDir();
  await using home = await makeScratchDir();
  const result = await runCli(["env", "TOOLSCRIPT_HOME", "PATH", "EXTRA", "HOME"], {
    script: await fakeCli(dir),
    home,
    env: { EXTRA: "1", HOME: undefined },
  });
  const env = JSON.parse(result.stdout);
  assert.equal(env.TOOLSCRIPT_HOME, home.path);
  assert.equal(env.PATH, Deno.env.get("PATH"));
  assert.equal(env.EXTRA, "1");
  assert.equal(env.HOME, null);
});

Deno.test("runCli() feeds stdin and closes it", async () => {
  await using dir = await makeScratchDir();
  const result = await runCli(["stdin"], { script: await fakeCli(dir), stdin: "hello" });
  assert.equal(result.stdout, "got: hello\n");
});

Deno.test("runCli() kills a CLI that runs past its timeout and rejects", async () => {
  await using dir = await makeScratchDir();
  await assert.rejects(
    runCli(["hang"], { script: await fakeCli(dir), timeoutMs: 500 }),
    /ran past 500 ms/,
  );
});

Deno.test("spawnCli() waits for lines on either stream and talks over stdin", async () => {
  await using dir = await makeScratchDir();
  await using cli = spawnCli(["serve"], { script: await fakeCli(dir), keepStdinOpen: true });
  const match = await cli.waitForLine(/ready at (\S+)/);
  assert.equal(match[1], "http://127.0.0.1:1234/mcp");
  await cli.waitForLine(/^log line$/, { stream: "stderr" });
  await cli.writeStdin("ping\n");
  await cli.waitForLine(/^echo ping$/);
  // A line that already arrived still matches.
  await cli.waitForLine(/ready at/);
  await cli.closeStdin();
  await cli.waitForLine(/^stdin closed$/);
  assert.equal((await cli.status).code, 0);
  assert.match(cli.stdout(), /echo ping\nstdin closed\n$/);
  assert.equal(cli.stderr(), "log line\n");
});

Deno.test("spawnCli().waitForLine() rejects when the stream ends without a match", async () => {
  await using dir = await makeScratchDir();
  await using cli = spawnCli(["exit", "0"], { script: await fakeCli(dir) });
  await assert.rejects(cli.waitForLine(/never printed/), /stdout ended/);
});

Deno.test("spawnCli().waitForLine() rejects on timeout", async () => {
  await using dir = await makeScratchDir();
  await using cli = spawnCli(["hang"], { script: await fakeCli(dir) });
  await cli.waitForLine(/hanging/);
  await assert.rejects(cli.waitForLine(/never printed/, { timeoutMs: 200 }), /within 200 ms/);
});

Deno.test("disposing a spawnCli() handle kills the process", async () => {
  await using dir = await makeScratchDir();
  const cli = spawnCli(["hang"], { script: await fakeCli(dir) });
  await cli.waitForLine(/hanging/);
  await cli[Symbol.asyncDispose]();
  const status = await cli.status;
  assert.equal(status.signal, "SIGTERM");
});
