/**
 * A child for the process-stdio specs: echoes its stdin to its stdout through
 * {@link processStdio}, prints on stderr how each end is served (`input: socket, output:
 * stream`), and exits once its input ends.
 */
import { fileURLToPath } from "node:url";
import { processStdio } from "../../src/gateway/byte_pipes.ts";

/** The command that runs this child. */
export function processStdioEchoCommand(): { command: string; args: string[] } {
  return { command: Deno.execPath(), args: ["run", "-A", "-q", fileURLToPath(import.meta.url)] };
}

if (import.meta.main) {
  const { input, output, inputKind, outputKind } = processStdio();
  console.error(`input: ${inputKind}, output: ${outputKind}`);
  input.start((chunk) => void output.write(chunk.slice()), (error) => {
    if (error) console.error(`input failed: ${error.message}`);
    output.close().finally(() => input.stop());
  });
}
