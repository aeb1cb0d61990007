/**
 * Row group 7, code mode: what `toolscript exec` costs a model that writes a program instead
 * of calling tools one by one. The echo upstream runs in its own process and a
 * `toolscript gateway` in another; every `exec` uses that gateway (`TOOLSCRIPT_GATEWAY_URL`).
 *
 * 7a, cold start: `toolscript exec` of a program that calls echo once against `deno run` of
 * the same program written with the MCP SDK client and no toolscript (`_sdk_echo_once.ts`),
 * interleaved round by round (A B C, B C A, …); time from spawn to the result line on stdout
 * and to exit. Side A runs a program never run before (a fresh comment each time: what a model
 * writing a new program gets: the gateway's warm checker, a long-lived `deno lsp`, checks it
 * and the program runs with `--no-check`; the first round's warm-up starts that server), side C
 * the same program every time. 7b, many calls: one `exec` program making N sequential calls against N
 * `toolscript call` invocations (each its own `main.ts` process, connecting to the upstream
 * itself), measured A B A (exec before and after the calls, averaged).
 */
import { fileURLToPath } from "node:url";
import type { BenchContext } from "./_context.ts";
import { median } from "./_measure.ts";
import {
  childEnv,
  denoScript,
  MAIN_TS,
  REPO_ROOT,
  scratchDir,
  spawnGateway,
  spawnUpstream,
  writeConfig,
} from "./_procs.ts";
import { type BenchRow, formatMs } from "./_table.ts";

const GROUP_COLD = "7a Code mode, exec cold start (echo via a running gateway)";
const GROUP_MANY = "7b Code mode, many tool calls";

/** Rounds of 7a and calls of 7b for a full and a quick run. */
export function codeModeBudget(quick: boolean): { rounds: number; calls: number } {
  return quick ? { rounds: 3, calls: 10 } : { rounds: 8, calls: 100 };
}

/** The 7a program: one call, its result printed. */
export const ONE_CALL_PROGRAM = `import { tools } from "toolscript";
console.log(await tools.echo.echo({ text: "ping" }));
`;

/** {@link ONE_CALL_PROGRAM} as a program never run before (a comment that differs each time). */
function freshOneCallProgram(): string {
  return `// run ${crypto.randomUUID()}\n${ONE_CALL_PROGRAM}`;
}

/** The 7b program: `calls` sequential calls, then how many came back right. */
export function manyCallsProgram(calls: number): string {
  return `import { tools } from "toolscript";
let ok = 0;
for (let i = 0; i < ${calls}; i++) {
  if (await tools.echo.echo({ text: "ping" }) === "echo: ping") ok++;
}
console.log("ok " + ok);
`;
}

/** One timed child process. */
interface TimedRun {
  /** Spawn until a stdout line matched, ms (NaN when none did). */
  firstMatchMs: number;
  /** Spawn until exit, ms. */
  exitMs: number;
}

/**
 * Spawns `command`, times its first stdout line matching `line` and its exit.
 * @throws {Error} when it exits non-zero or prints no matching line.
 */
async function timeProcess(
  command: { command: string; args: string[] },
  env: Record<string, string>,
  line: RegExp,
): Promise<TimedRun> {
  const start = performance.now();
  const child = new Deno.Command(command.command, {
    args: command.args,
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let firstMatchMs = NaN;
  let stdout = "";
  const reading = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += text;
      if (Number.isNaN(firstMatchMs) && stdout.split("\n").some((l) => line.test(l.trim()))) {
        firstMatchMs = performance.now() - start;
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const [status] = await Promise.all([child.status, reading]);
  const exitMs = performance.now() - start;
  const errors = await stderr;
  if (!status.success || Number.isNaN(firstMatchMs)) {
    const what = command.args.slice(-3).join(" ").slice(0, 120);
    throw new Error(
      `${what} exited ${status.code} without ${line}: ${(errors || stdout).trim().slice(-400)}`,
    );
  }
  return { firstMatchMs, exitMs };
}

/** Row group 7. */
export async function benchCodeMode(ctx: BenchContext): Promise<BenchRow[]> {
  const budget = codeModeBudget(ctx.quick);
  await using dir = await scratchDir("codemode");
  await using upstream = await spawnUpstream();
  const config = await writeConfig(dir.path, "codemode", {
    echo: { type: "http", url: upstream.url },
  });
  await using gateway = await spawnGateway(config, dir.path);
  const execEnv = childEnv({ TOOLSCRIPT_GATEWAY_URL: gateway.url, TOOLSCRIPT_HOME: dir.path });
  const exec = (program: string) => denoScript(MAIN_TS, ["exec", program]);
  const baselineScript = fileURLToPath(new URL("./_sdk_echo_once.ts", import.meta.url));
  const sides = [
    () => timeProcess(exec(freshOneCallProgram()), execEnv, /^echo: ping$/),
    () => timeProcess(denoScript(baselineScript, [upstream.url]), childEnv(), /^echo: ping$/),
    () => timeProcess(exec(ONE_CALL_PROGRAM), execEnv, /^echo: ping$/),
  ];

  ctx.progress(`${GROUP_COLD}: warm-up`);
  for (const side of sides) await side();
  const runs: TimedRun[][] = [[], [], []];
  for (let round = 0; round < budget.rounds; round++) {
    ctx.progress(`${GROUP_COLD}: round ${round + 1} of ${budget.rounds}`);
    for (let k = 0; k < sides.length; k++) {
      const s = (round + k) % sides.length;
      runs[s].push(await sides[s]());
    }
  }
  const coldRows = coldStartRows(runs, budget.rounds);

  const { calls } = budget;
  const manyProgram = exec(manyCallsProgram(calls));
  const callArgs = ["call", "echo", "echo", '{"text":"ping"}', "--config", config];
  const callEnv = childEnv({ TOOLSCRIPT_HOME: dir.path });
  const execMany: number[] = [];
  ctx.progress(`${GROUP_MANY}: exec, ${calls} calls in one program`);
  execMany.push((await timeProcess(manyProgram, execEnv, new RegExp(`^ok ${calls}$`))).exitMs);
  ctx.progress(`${GROUP_MANY}: ${calls} × toolscript call`);
  let callTotalMs = 0;
  for (let i = 0; i < calls; i++) {
    const run = await timeProcess(denoScript(MAIN_TS, callArgs), callEnv, /"echo: ping"/);
    callTotalMs += run.exitMs;
  }
  ctx.progress(`${GROUP_MANY}: exec again`);
  execMany.push((await timeProcess(manyProgram, execEnv, new RegExp(`^ok ${calls}$`))).exitMs);
  const execMs = (execMany[0] + execMany[1]) / 2;
  const quickNote = ctx.quick ? " (--quick; a full run makes 100)" : "";
  return [
    ...coldRows,
    {
      group: GROUP_MANY,
      measure: `wall time for ${calls} sequential echo calls${quickNote}`,
      subject: `one exec program ${formatMs(execMs)}`,
      baseline: `${calls} × toolscript call ${formatMs(callTotalMs)}`,
      ratio: execMs / callTotalMs,
      ideal: "≪ 1",
      raw: {
        calls,
        execMs,
        execBeforeMs: execMany[0],
        execAfterMs: execMany[1],
        callTotalMs,
        callMeanMs: callTotalMs / calls,
      },
    },
  ];
}

function coldStartRows(
  [fresh, baseline, same]: TimedRun[][],
  rounds: number,
): BenchRow[] {
  const row = (
    measure: string,
    subject: TimedRun[],
    pick: (run: TimedRun) => number,
    target?: BenchRow["target"],
  ): BenchRow => {
    const a = median(subject.map(pick));
    const b = median(baseline.map(pick));
    return {
      group: GROUP_COLD,
      measure: `${measure}, median of ${rounds}`,
      subject: `toolscript exec ${formatMs(a)}`,
      baseline: `deno run, SDK client, no toolscript ${formatMs(b)}`,
      ratio: a / b,
      ...(target ? { target } : {}),
      ideal: "≈ 1",
      raw: { rounds, subjectMs: a, baselineMs: b },
    };
  };
  // Issue 15: at most 2× a bare run to the first tool result, type-checking kept.
  const target = { op: "≤", value: 2 } as const;
  return [
    row(
      "new program: program start → first tool result",
      fresh,
      (run) => run.firstMatchMs,
      target,
    ),
    row("new program: program start → exit", fresh, (run) => run.exitMs),
    row("same program again: start → first tool result", same, (run) => run.firstMatchMs),
  ];
}
