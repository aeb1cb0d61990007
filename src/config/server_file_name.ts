/**
 * How a server name becomes a file name, for every per-server file toolscript keeps (the
 * credential store's documents and locks, the tool cache's lists): one encoding that is safe
 * on case-insensitive file systems (`GitHub` and `github` get different files) and reversible.
 */

/** Longest encoded name; leaves room for a suffix within a 255-byte file name. */
const MAX_ENCODED_NAME = 200;

/**
 * A file-name stem for `server`: percent-encodes every UTF-8 byte outside `a-z 0-9 _ -` (hex
 * digits upper case).
 * @throws {RangeError} for an empty, ill-formed or too long name.
 */
export function encodeServerName(server: string): string {
  if (server.length === 0 || !server.isWellFormed()) {
    throw new RangeError(`Invalid server name ${JSON.stringify(server)}`);
  }
  let encoded = "";
  for (const byte of new TextEncoder().encode(server)) {
    const char = String.fromCharCode(byte);
    encoded += /[a-z0-9_-]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (encoded.length > MAX_ENCODED_NAME) {
    throw new RangeError(`Server name is too long: ${server.length} characters`);
  }
  return encoded;
}

/** The server name a file stem encodes, or undefined when it is not one of our encodings. */
export function decodeServerName(stem: string): string | undefined {
  try {
    const name = decodeURIComponent(stem);
    return encodeServerName(name) === stem ? name : undefined;
  } catch {
    return undefined;
  }
}
