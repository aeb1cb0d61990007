/** toolscript's version: the one place the gateway's server info and the upstream clients read it. */

/** The version toolscript reports as an MCP server and as an MCP client. */
export const TOOLSCRIPT_VERSION = "0.1.0";
