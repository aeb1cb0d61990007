/**
 * Encryption at rest for the Redis store: AES-256-GCM (WebCrypto) under a 32-byte key given
 * in base64, with the server name and caller as associated data, so a value decrypts only
 * under the key it was written for and only as the document of that server and caller.
 */

/** A value that cannot be decrypted: wrong key, altered bytes, or moved to another key. */
export class DecryptionFailedError extends Error {
  /** Says which of the checks failed, never any of the value. */
  constructor(reason: string) {
    super(reason);
    this.name = "DecryptionFailedError";
  }
}

/**
 * Imports a store key from its base64 text (whitespace around it ignored).
 * @throws {TypeError} when it is not base64 of exactly 32 bytes (the message never shows it).
 */
export async function importStoreKey(base64: string): Promise<CryptoKey> {
  const text = base64.trim();
  let bytes: Uint8Array;
  try {
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new Error("not base64");
    bytes = Uint8Array.from(
      atob(text.replaceAll("-", "+").replaceAll("_", "/")),
      (c) => c.charCodeAt(0),
    );
  } catch {
    throw new TypeError("the store encryption key is not base64");
  }
  if (bytes.length !== 32) {
    throw new TypeError(
      `the store encryption key must be 32 bytes (base64 of 32 random bytes), got ${bytes.length}`,
    );
  }
  return await crypto.subtle.importKey("raw", bytes as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** The associated data binding a value to its server and caller (empty for the gateway's own). */
function associatedData(server: string, caller: string | undefined): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`toolscript-store-v1\0${server}\0${caller ?? ""}`);
}

/** Encrypts `plaintext` as `v1.<iv>.<ciphertext>` (base64), a fresh 96-bit IV each time. */
export async function encryptValue(
  key: CryptoKey,
  plaintext: string,
  server: string,
  caller?: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: associatedData(server, caller) },
    key,
    new TextEncoder().encode(plaintext),
  );
  return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

/**
 * Decrypts a value of {@link encryptValue}.
 * @throws {DecryptionFailedError} when it is malformed or fails authentication.
 */
export async function decryptValue(
  key: CryptoKey,
  value: string,
  server: string,
  caller?: string,
): Promise<string> {
  const parts = value.split(".");
  if (parts.length !== 3 || parts[0] !== "v1") {
    throw new DecryptionFailedError("the stored value is not an encrypted credential document");
  }
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(parts[1]), additionalData: associatedData(server, caller) },
      key,
      fromBase64(parts[2]),
    );
  } catch {
    throw new DecryptionFailedError(
      "it does not decrypt under the configured key (a different key, or an altered value)",
    );
  }
  return new TextDecoder().decode(plain);
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
