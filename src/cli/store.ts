/**
 * `toolscript store rekey --old-key-file <path> --new-key-file <path>`: re-encrypts every
 * value of the configured Redis store under a new key.
 */
import { resolve } from "node:path";
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import { type CliIo, openCliRuntime } from "./cli_runtime.ts";
import { UsageError } from "../errors.ts";

/** Parsed `store` arguments. */
export interface StoreArgs {
  config?: string;
  help: boolean;
  /** The subcommand; only `rekey` so far. */
  action: string;
  oldKeyFile?: string;
  newKeyFile?: string;
}

/** Help text of `store`. */
export const STORE_HELP = `Usage: toolscript store rekey --old-key-file <path> --new-key-file <path>

Re-encrypts every value of the Redis store (the config's "store" block, or
TOOLSCRIPT_STORE_URL) from the old key to the new one, every caller's too. Values
already under the new key are left alone, so it can be run again after an
interruption. Then point "encryptionKeyFile" (or TOOLSCRIPT_STORE_KEY) at the new
key and restart the gateways; until then they cannot read what was re-encrypted.
Each key file holds base64 of 32 random bytes (openssl rand -base64 32).
${GLOBAL_HELP}`;

/** Parses `store` arguments (pure). */
export function parseStoreArgs(argv: string[]): StoreArgs {
  const { values, positionals, global } = parseCommandArgs("store", argv, {
    "old-key-file": { type: "string" },
    "new-key-file": { type: "string" },
  }, { min: 1, max: 1 });
  const args: StoreArgs = {
    ...global,
    action: positionals[0],
    oldKeyFile: values["old-key-file"] as string | undefined,
    newKeyFile: values["new-key-file"] as string | undefined,
  };
  if (global.help) return args;
  if (args.action !== "rekey") {
    throw new UsageError(`Unknown store action "${args.action}"; use: rekey`, {
      fix: "toolscript store --help",
    });
  }
  if (!args.oldKeyFile || !args.newKeyFile) {
    throw new UsageError("store rekey needs --old-key-file and --new-key-file", {
      fix: "toolscript store --help",
    });
  }
  return args;
}

/** Runs `store rekey`; prints how many values were re-encrypted. */
export async function runStore(args: StoreArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(STORE_HELP + "\n");
    return 0;
  }
  const runtime = await openCliRuntime(io, args.config);
  const store = runtime.config.store;
  if (!store) {
    throw new UsageError(
      'No Redis store is configured; add "store": {"type": "redis", …} or set TOOLSCRIPT_STORE_URL',
    );
  }
  const { openRedisStore, readStoreKey } = await import("../auth/store/redis_store_open.ts");
  const newFile = resolve(io.cwd, args.newKeyFile!);
  const oldKey = await readStoreKey({ file: resolve(io.cwd, args.oldKeyFile!) }, runtime);
  const target = await openRedisStore({ ...store, encryptionKey: { file: newFile } }, {
    logger: runtime.logger,
    now: io.now,
  });
  try {
    const { rekeyed, current } = await target.rekey(oldKey);
    io.stdout(
      `Re-encrypted ${rekeyed} value${rekeyed === 1 ? "" : "s"} in ${target.display} ` +
        `(${current} already under the new key); point "encryptionKeyFile" or ` +
        `TOOLSCRIPT_STORE_KEY at "${newFile}"\n`,
    );
  } finally {
    target.close();
  }
  return 0;
}
