/**
 * DPoP (RFC 9449): sender-constrained tokens. A per-server EC key signs a fresh proof for every
 * token request and every request to the server, so a stolen token is useless without the key.
 * Proofs and nonce memory are oauth4webapi's (`oauth.DPoP`): nothing here signs a JWT.
 *
 * The key of an OAuth server lives in its credential document (`dpopKey`, saved 0600 with the
 * tokens by the store's atomic write), so a restarted gateway can still use DPoP-bound tokens
 * and refresh tokens; in memory the private key is imported non-extractable.
 */
import * as oauth from "oauth4webapi";
import { AuthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";

/** A DPoP key as the credential document keeps it (the private JWK is a secret). */
export interface StoredDpopKey {
  /** The JWS algorithm: `ES256`, `ES384` or `ES512`. */
  alg: string;
  /** The private key as a JWK (`kty` `EC`, the curve of `alg`, `x`, `y`, `d`). */
  jwk: JsonWebKey;
}

/** The algorithms we sign proofs with, in order of preference, and their curves. */
const CURVES: Record<string, string> = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };

/** The authorization server metadata that decides DPoP (`dpop_signing_alg_values_supported`). */
export type DpopMetadata = Record<string, unknown>;

/**
 * The algorithm to use with this authorization server, or undefined for no DPoP: `setting`
 * false turns it off; undefined turns it on when the server advertises an algorithm we have;
 * true turns it on (ES256 when the server advertises none).
 * @throws {AuthError} when DPoP is required by `setting` and the server offers only
 *   algorithms we cannot sign with.
 */
export function chooseDpopAlg(
  server: string,
  metadata: DpopMetadata | undefined,
  setting: boolean | undefined,
): string | undefined {
  if (setting === false) return undefined;
  const advertised = metadata?.dpop_signing_alg_values_supported;
  const offered = Array.isArray(advertised) ? advertised.filter((a) => typeof a === "string") : [];
  const usable = Object.keys(CURVES).find((alg) => offered.includes(alg));
  if (usable) return usable;
  if (setting !== true) return undefined;
  if (offered.length === 0) return "ES256";
  throw new AuthError(
    `Cannot use DPoP with server "${server}": its authorization server accepts only ` +
      `${offered.slice(0, 5).join(", ")} proofs, toolscript signs ES256, ES384 or ES512; ` +
      `remove "dpop": true`,
    { server },
  );
}

/**
 * A DPoP key with oauth4webapi's proof handle (which remembers each origin's nonce). Create one
 * per server and keep it: the nonce memory lives as long as it does.
 */
export class DpopKey {
  /** What the credential document keeps; undefined for a key kept in memory only. */
  readonly stored?: StoredDpopKey;
  /** oauth4webapi's handle, for its token and resource requests (`DPoP` option). */
  readonly handle: oauth.DPoPHandle;
  readonly #server: string;

  private constructor(server: string, handle: oauth.DPoPHandle, stored?: StoredDpopKey) {
    this.#server = server;
    this.handle = handle;
    this.stored = stored;
  }

  /**
   * A new key for `alg`. `persist`: exportable once, to be saved in the credential document;
   * otherwise the private key is never extractable.
   */
  static async generate(
    server: string,
    alg: string,
    options: { persist: boolean; logger?: Logger },
  ): Promise<DpopKey> {
    const params = { name: "ECDSA", namedCurve: curveOf(server, alg) };
    if (!options.persist) {
      const pair = await crypto.subtle.generateKey(params, false, ["sign", "verify"]);
      const publicKey = await reimportPublic(pair.publicKey, params);
      return new DpopKey(server, oauth.DPoP({}, { privateKey: pair.privateKey, publicKey }));
    }
    const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    options.logger?.redactor.addSecret(jwk.d);
    return await DpopKey.fromStored(server, { alg, jwk: stripJwk(jwk) });
  }

  /**
   * The key a credential document keeps, imported with a non-extractable private key.
   * @throws {AuthError} naming the server when the stored key is not a usable EC key of its
   *   algorithm (wrong curve, missing parts); a new login replaces it.
   */
  static async fromStored(server: string, stored: StoredDpopKey): Promise<DpopKey> {
    const { alg, jwk } = stored;
    const curve = CURVES[alg];
    if (!curve || jwk?.kty !== "EC" || jwk.crv !== curve || !jwk.d || !jwk.x || !jwk.y) {
      throw unusableKey(server, `it is not an ${alg ?? "EC"} key on curve ${curve ?? "?"}`);
    }
    const params = { name: "ECDSA", namedCurve: curve };
    try {
      const privateKey = await crypto.subtle.importKey("jwk", jwk, params, false, ["sign"]);
      const { d: _private, ...publicJwk } = jwk;
      const publicKey = await crypto.subtle.importKey("jwk", publicJwk, params, true, ["verify"]);
      return new DpopKey(server, oauth.DPoP({}, { privateKey, publicKey }), stored);
    } catch (error) {
      throw unusableKey(server, (error as Error).name, error);
    }
  }

  /**
   * Wraps the fetch of an SDK-driven flow (login, refresh) so that its token requests — POSTs
   * whose form body has a `grant_type` — carry a proof; a `use_dpop_nonce` answer is retried
   * once with the nonce the server sent. Other requests (metadata, registration) pass as they
   * are. oauth4webapi's own requests take {@link DpopKey.handle} instead.
   * @throws {AuthError} when the server asks for a new nonce again after that retry.
   */
  tokenFetch(inner: typeof fetch): typeof fetch {
    const proofs = this.handle as ProofHandle;
    return async (input, init) => {
      const body = init?.body;
      const form = typeof body === "string"
        ? body
        : body instanceof URLSearchParams
        ? `${body}`
        : "";
      if ((init?.method ?? "GET").toUpperCase() !== "POST" || !/(^|&)grant_type=/.test(form)) {
        return await inner(input, init);
      }
      const url = new URL(input instanceof Request ? input.url : String(input));
      for (let attempt = 0;; attempt++) {
        const headers = new Headers(init?.headers);
        await proofs.addProof(url, headers, "POST");
        const response = await inner(input, { ...init, headers });
        proofs.cacheNonce(response, url);
        if (!(await asksForNonce(response))) return response;
        await response.body?.cancel();
        if (attempt >= 1) throw this.#nonceLoop("authorization server");
      }
    };
  }

  /**
   * Sends one request to the server with `Authorization: DPoP <token>` and a fresh proof bound
   * to the token (`ath`), through oauth4webapi. A `use_dpop_nonce` challenge is retried once
   * with the server's nonce (remembered for later requests); any other answer is returned.
   * @throws {AuthError} when the server asks for a new nonce again after that retry.
   */
  async send(
    inner: typeof fetch,
    input: RequestInfo | URL,
    init: RequestInit & { headers: Record<string, string> },
    accessToken: string,
  ): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const { authorization: _sent, ...headers } = init.headers;
    const body = init.body as oauth.ProtectedResourceRequestBody;
    for (let attempt = 0;; attempt++) {
      try {
        return await oauth.protectedResourceRequest(
          accessToken,
          (init.method ?? "GET").toUpperCase(),
          url,
          new Headers(headers),
          body,
          {
            DPoP: this.handle,
            signal: init.signal ?? undefined,
            [oauth.customFetch]: (target, options) =>
              inner(target, { ...init, ...options, body: options.body as BodyInit | null }),
            [oauth.allowInsecureRequests]: url.protocol === "http:",
          },
        );
      } catch (error) {
        // oauth4webapi turns every WWW-Authenticate answer into an error; only a nonce
        // challenge is ours to handle here, the rest go back to the caller's 401/403 handling.
        if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
        if (!oauth.isDPoPNonceError(error)) return error.response;
        await error.response.body?.cancel();
        if (attempt >= 1) throw this.#nonceLoop("server");
      }
    }
  }

  #nonceLoop(who: string): AuthError {
    return new AuthError(
      `Cannot reach server "${this.#server}": its ${who} asked for a new DPoP nonce again ` +
        "after a retry with the one it sent",
      { server: this.#server },
    );
  }
}

/**
 * The key a new login binds its tokens to: a fresh one, to be saved with them, when DPoP is on
 * for this authorization server (see {@link chooseDpopAlg}); undefined when it is off.
 */
export async function dpopKeyForLogin(
  server: string,
  metadata: DpopMetadata | undefined,
  setting: boolean | undefined,
  logger: Logger,
): Promise<DpopKey | undefined> {
  const alg = chooseDpopAlg(server, metadata, setting);
  if (!alg) return undefined;
  logger.debug(`Binding the tokens of "${server}" to a new DPoP key`, { alg });
  return await DpopKey.generate(server, alg, { persist: true, logger });
}

/** `doc` with `key` as its DPoP key, or without one when `key` is undefined (no DPoP). */
export function withDpopKey<T extends { dpopKey?: StoredDpopKey }>(doc: T, key?: DpopKey): T {
  const { dpopKey: _previous, ...rest } = doc;
  return (key?.stored ? { ...rest, dpopKey: key.stored } : rest) as T;
}

/** True when `tokens` are bound to a DPoP key (`token_type` DPoP). */
export function isDpopBound(tokenType: string | undefined): boolean {
  return tokenType?.toLowerCase() === "dpop";
}

/**
 * oauth4webapi's DPoP handle as its own request functions use it. The SDK makes the login and
 * refresh requests, so {@link DpopKey.tokenFetch} calls these two directly.
 */
interface ProofHandle extends oauth.DPoPHandle {
  addProof(url: URL, headers: Headers, htm: string, accessToken?: string): Promise<void>;
  cacheNonce(response: Response, url: URL): void;
}

/** A token endpoint's `use_dpop_nonce` error (RFC 9449 §8), read from a copy of the body. */
async function asksForNonce(response: Response): Promise<boolean> {
  if (response.status !== 400 && response.status !== 401) return false;
  if (/use_dpop_nonce/.test(response.headers.get("www-authenticate") ?? "")) return true;
  const body = await response.clone().json().catch(() => undefined);
  return (body as { error?: unknown } | undefined)?.error === "use_dpop_nonce";
}

function curveOf(server: string, alg: string): string {
  const curve = CURVES[alg];
  if (!curve) throw unusableKey(server, `${alg} is not an algorithm toolscript signs with`);
  return curve;
}

async function reimportPublic(key: CryptoKey, params: EcKeyImportParams): Promise<CryptoKey> {
  // A non-extractable pair's public key is still exportable (WebCrypto always allows it).
  const raw = await crypto.subtle.exportKey("jwk", key);
  return await crypto.subtle.importKey("jwk", raw, params, true, ["verify"]);
}

function stripJwk(jwk: JsonWebKey): JsonWebKey {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d };
}

function unusableKey(server: string, reason: string, cause?: unknown): AuthError {
  return new AuthError(
    `The DPoP key stored for server "${server}" is unusable (${reason}); run: toolscript auth ` +
      server,
    { server, cause },
  );
}
