/**
 * What the gateway shows for a server that needs a login: the command that fixes it, and the
 * `<prefix>__authenticate` placeholder tool listed while the server has no tools to show.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { NotAuthenticatedError } from "../errors.ts";
import { type FixContext, renderFix } from "../fix_command.ts";
import type { Upstream } from "./upstream.ts";

/**
 * The command that lets `upstream` connect: the fix its last failure names, else
 * `toolscript auth <server>`, rendered for this gateway (`--config` when not the default).
 */
export function loginFixFor(upstream: Upstream, fixes: FixContext): string {
  return renderFix(upstream.lastFailure, fixes) ??
    renderFix(new NotAuthenticatedError(upstream.name), fixes)!;
}

/** The placeholder tool (its own name `authenticate`) whose description names the fix command. */
// deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
export function authenticateTool(upstream: Upstream, fixes: FixContext): Tool {
  return {
    name: "authenticate",
    description: `Server "${upstream.name}" needs a login before its tools can be used. ` +
      `Ask the user to run: ${loginFixFor(upstream, fixes)}`,
    inputSchema: { type: "object", properties: {} },
  };
}
