/**
 * `exec` against a running gateway with its warm type-checker: once the checker is warm, a new
 * program's type error still reads exactly as `deno check` prints it (as `exec` without a
 * gateway shows it), a new clean program runs (one past 64 KiB too, with the warm verdict), and
 * the checker does not outlive the gateway.
 */
import assert from "node:assert/strict";
import { makeScratchDir, runCli, spawnCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";

/** Pids of `deno lsp` processes whose parent is `parent` (Linux `/proc`). */
function lspChildren(parent: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (ppid === parent && cmdline[1] === "lsp") found.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Waits (bounded in tries and time) until `probe` returns something defined. */
async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < 600 && Date.now() < deadline; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

/**
 * A loopback HTTP forwarder to `target` that records each `/runtime/check` answer's verdict
 * (or status), so a test sees which verdict `exec` got from the gateway.
 */
function startCheckRecorder(target: string) {
  const verdicts: (string | number)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("host");
    const response = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
    });
    if (url.pathname !== "/runtime/check") return response;
    const body = await response.text();
    verdicts.push(response.ok ? JSON.parse(body).verdict : response.status);
    return new Response(body, { status: response.status, headers: response.headers });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    verdicts,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test({
  name:
    "exec through a gateway's warm checker: deno check's diagnostics, clean programs run, the checker ends with the gateway",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await makeScratchDir();
    await using web = await startHttpMcpServer({ name: "web" });
    const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
    const token = `gateway-${crypto.randomUUID()}`;
    await using gateway = spawnCli(["gateway", "--config", config, "--port", "0"], {
      home: dir,
      env: { TOOLSCRIPT_GATEWAY_TOKEN: token },
    });
    const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
    const env = { TOOLSCRIPT_GATEWAY_URL: url, TOOLSCRIPT_GATEWAY_TOKEN: token };
    const fresh = (body: string) =>
      `// ${crypto.randomUUID()}\nimport { tools } from "toolscript";\n${body}`;

    // The first run starts the checker and type-checks itself.
    const first = await runCli(["exec", fresh(`console.log(typeof tools.web);\n`)], {
      home: dir,
      env,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "object\n");
    // Warm once the gateway's /runtime/check vouches for a clean program.
    const origin = new URL(url).origin;
    const tools = await (await fetch(`${origin}/runtime/tools.ts`, {
      headers: { authorization: `Bearer ${token}` },
    })).text();
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(tools)),
    );
    const hash = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    await until(async () => {
      const response = await fetch(`${origin}/runtime/check`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ tools: hash, program: "console.log(1);" }),
      });
      const body = await response.json();
      return body.verdict === "clean" ? true : undefined;
    }, "a warm checker");
    const [lsp] = lspChildren(gateway.pid);
    assert.ok(lsp !== undefined, "the gateway runs one deno lsp");

    // A new program with a type error: the same diagnostics as exec without a gateway.
    const bad = `const n: string = 1;\nconsole.log("RAN", n);\n`;
    const warm = await runCli(["exec", bad], { home: dir, env });
    const cold = await runCli(["exec", bad, "--config", config], { home: dir });
    assert.equal(warm.code, 1);
    assert.equal(cold.code, 1);
    assert.match(warm.stderr, /TS2322 \[ERROR\]: Type 'number' is not assignable to type 'string'/);
    assert.equal(warm.stderr, cold.stderr);
    assert.doesNotMatch(warm.stdout, /^RAN/m);

    // A new clean program runs and calls a tool.
    const good = await runCli(
      ["exec", fresh(`console.log(JSON.stringify(await tools.web.echo({ text: "hi" })));\n`)],
      { home: dir, env },
    );
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /hi/);

    // A program past the HTTP server's 64 KiB head limit still gets the warm verdict.
    await using recorder = startCheckRecorder(origin);
    const large = fresh(
      `const pad = "${"x".repeat(100 * 1024)}";\nconsole.log(pad.length);\n`,
    );
    const viaRecorder = {
      ...env,
      TOOLSCRIPT_GATEWAY_URL: `${recorder.origin}${new URL(url).pathname}`,
    };
    const big = await runCli(["exec", large], { home: dir, env: viaRecorder });
    assert.equal(big.code, 0, big.stderr);
    assert.equal(big.stdout, `${100 * 1024}\n`);
    assert.deepEqual(recorder.verdicts, ["clean"]);

    // The checker ends with the gateway.
    gateway.kill("SIGTERM");
    await gateway.status;
    await until(
      () => Deno.stat(`/proc/${lsp}`).then(() => undefined, () => true),
      "the checker to exit after the gateway",
    );
  },
});
