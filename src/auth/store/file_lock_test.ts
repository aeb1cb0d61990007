import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../../../tests/_helpers.ts";
import { InsecureTokenFileError } from "../../errors.ts";
import { Logger } from "../../log.ts";
import { acquireFileLock, FileLock, LockQueue } from "./file_lock.ts";

Deno.test("acquireFileLock() creates a 0600 lock file holding our pid until release", async () => {
  await using scratch = await makeScratchDir();
  const path = join(scratch.path, "github.lock");
  const lock = await acquireFileLock(path);
  assert.ok(lock instanceof FileLock && lock.held);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`);
  await lock.release();
  assert.equal(lock.held, false);
  assert.equal(await Deno.readTextFile(path), "");
  await lock.release(); // a second release does nothing
});

Deno.test("acquireFileLock() waits for the holder and gets the lock once it is released", async () => {
  await using scratch = await makeScratchDir();
  const path = join(scratch.path, "github.lock");
  const lines: string[] = [];
  const told = Promise.withResolvers<void>();
  const write = (line: string) => {
    lines.push(line);
    told.resolve();
  };
  const first = await acquireFileLock(path);
  const second = acquireFileLock(path, {
    pollMs: 5,
    logger: new Logger({ level: "debug", write }),
  });
  await told.promise; // the second one found the lock busy
  assert.ok(lines.some((l) => l.includes(`"holderPid":${Deno.pid}`)), lines.join("\n"));
  await first.release();
  await using _second = await second;
  assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`);
});

Deno.test("acquireFileLock() rejects with the signal's reason while the lock is busy", async () => {
  await using scratch = await makeScratchDir();
  const path = join(scratch.path, "github.lock");
  await using _held = await acquireFileLock(path);
  const controller = new AbortController();
  const told = Promise.withResolvers<void>();
  const waiting = acquireFileLock(path, {
    signal: controller.signal,
    logger: new Logger({ level: "debug", write: () => told.resolve() }),
  });
  await told.promise;
  const reason = new Error("stop waiting");
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
});

Deno.test("acquireFileLock() refuses a lock file that is a symbolic link", async () => {
  await using scratch = await makeScratchDir();
  const target = join(scratch.path, "precious.txt");
  await Deno.writeTextFile(target, "keep me");
  await Deno.symlink(target, join(scratch.path, "github.lock"));
  await assert.rejects(acquireFileLock(join(scratch.path, "github.lock")), InsecureTokenFileError);
  assert.equal(await Deno.readTextFile(target), "keep me");
});

Deno.test("acquireFileLock() checks pollMs up front", async () => {
  await assert.rejects(acquireFileLock("/nonexistent/x.lock", { pollMs: 0 }), RangeError);
});

Deno.test("LockQueue hands a key to waiters in arrival order", async () => {
  const queue = new LockQueue();
  const order: string[] = [];
  const first = await queue.acquire("github");
  const waiters = ["b", "c", "d"].map(async (name) => {
    using _turn = await queue.acquire("github");
    order.push(name);
  });
  using _other = await queue.acquire("other"); // other keys are independent
  order.push("a");
  first[Symbol.dispose]();
  await Promise.all(waiters);
  assert.deepEqual(order, ["a", "b", "c", "d"]);
  assert.equal(queue.isHeld("github"), false);
});

Deno.test("LockQueue drops an aborted waiter without disturbing the others", async () => {
  const queue = new LockQueue();
  const first = await queue.acquire("github");
  const controller = new AbortController();
  const aborted = queue.acquire("github", controller.signal);
  const next = queue.acquire("github");
  controller.abort(new Error("gone"));
  await assert.rejects(aborted, /gone/);
  first[Symbol.dispose]();
  const turn = await next;
  assert.equal(queue.isHeld("github"), true);
  turn[Symbol.dispose]();
  assert.equal(queue.isHeld("github"), false);
});
