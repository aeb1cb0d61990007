/**
 * Writing a whole buffer to a file, pipe or connection: a `write` may take fewer bytes than
 * it was given, so both helpers loop until every byte is written.
 */

/** Something with Deno's async `write` (a `Deno.FsFile`, a `Deno.Conn`). */
export interface AsyncWriter {
  /** Writes some of `p`; resolves to how many bytes it took. */
  write(p: Uint8Array): Promise<number>;
}

/** Something with Deno's sync `writeSync` (`Deno.stdout`, a `Deno.FsFile`). */
export interface SyncWriter {
  /** Writes some of `p`; returns how many bytes it took. */
  writeSync(p: Uint8Array): number;
}

/** Writes every byte of `bytes` to `writer`. */
export async function writeAll(writer: AsyncWriter, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await writer.write(bytes.subarray(written));
}

/** Writes every byte of `bytes` to `writer`, blocking. */
export function writeAllSync(writer: SyncWriter, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += writer.writeSync(bytes.subarray(written));
}
