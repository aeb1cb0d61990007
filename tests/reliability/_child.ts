/**
 * A Deno script run as a real child process for the reliability specs: stdout read line by
 * line, stdin kept open for a go signal, `await using` kills it (SIGKILL) and reaps it.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../_helpers.ts";

/** A running child script. */
export interface ChildScript extends AsyncDisposable {
  /** Resolves when the child exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Resolves with the first stdout line matching `pattern` (past lines included). */
  waitForLine(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Writes a line to the child's stdin. */
  send(line: string): Promise<void>;
  kill(signal: Deno.Signal): void;
}

/** Starts `deno run -A <script> ...args` in the repo. */
export function spawnScript(script: string, args: string[]): ChildScript {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "-q",
      "--config",
      join(REPO_ROOT, "deno.json"),
      `--lock=${join(REPO_ROOT, "deno.test.lock")}`,
      script,
      ...args,
    ],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const lines: string[] = [];
  let ended = false;
  const waiters = new Set<() => void>();
  const notify = () => [...waiters].forEach((w) => w());
  let errText = "";
  const pumps = [
    (async () => {
      let partial = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        lines.push(...parts);
        notify();
      }
      ended = true;
      notify();
    })(),
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) errText += chunk;
    })(),
  ];
  const stdin = child.stdin.getWriter();

  function waitForLine(pattern: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let checked = 0;
      const check = () => {
        for (; checked < lines.length; checked++) {
          const match = lines[checked].match(pattern);
          if (match) {
            waiters.delete(check);
            return resolve(match);
          }
        }
        if (ended) {
          waiters.delete(check);
          reject(new Error(`stdout ended before ${pattern}\nstderr:\n${errText}`));
        }
      };
      waiters.add(check);
      check();
    });
  }

  function kill(signal: Deno.Signal): void {
    if (!exited) child.kill(signal);
  }

  return {
    status,
    waitForLine,
    stderr: () => errText,
    send: (line) => stdin.write(new TextEncoder().encode(line + "\n")),
    kill,
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await stdin.close().catch(() => undefined);
      await status;
      await Promise.all(pumps);
    },
  };
}
