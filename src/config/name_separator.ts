/**
 * The separator of exposed names: `<prefix>__<name>`. The config refuses it in server names
 * and prefixes, the gateway joins and splits names on it, and the served tools module builds
 * default names with it; all of them read this one constant.
 */

/** Separates a server's prefix from its tool and prompt names (`github__search`). */
export const NAME_SEPARATOR = "__";
