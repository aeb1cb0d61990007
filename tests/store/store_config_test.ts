import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/validate_config.ts";
import { ConfigError } from "../../src/errors.ts";

const FILE = "/etc/toolscript.json";
const KEY = btoa("k".repeat(32));

function validate(raw: Record<string, unknown>, env: Record<string, string> = {}) {
  return validateConfig({ mcpServers: {}, ...raw }, {
    file: FILE,
    source: "flag",
    env: (n) => env[n],
  });
}

Deno.test("store config: a redis block, the environment's fallbacks, and the file store by default", () => {
  assert.equal(validate({}).store, undefined);
  assert.equal(validate({ store: { type: "file" } }).store, undefined);
  assert.deepEqual(
    validate({ store: { type: "redis", url: "redis://127.0.0.1:6379/2", encryptionKeyFile: "k" } })
      .store,
    { type: "redis", url: "redis://127.0.0.1:6379/2", encryptionKey: { file: "/etc/k" } },
  );
  const fromEnv = validate({}, {
    TOOLSCRIPT_STORE_URL: "redis://:canary-pw@redis.internal:6380",
    TOOLSCRIPT_STORE_KEY: KEY,
  });
  assert.equal(fromEnv.store?.url, "redis://:canary-pw@redis.internal:6380");
  assert.deepEqual(fromEnv.store?.encryptionKey, { env: "TOOLSCRIPT_STORE_KEY", envValue: KEY });
  assert.ok(fromEnv.secrets.includes("canary-pw"), "the URL's password is redacted");
  assert.ok(fromEnv.secrets.includes(KEY), "the key is redacted");
});

Deno.test("store config: bad blocks are config errors with file and path, never the password", () => {
  const cases: [Record<string, unknown>, Record<string, string>, RegExp][] = [
    [
      { store: { type: "redis", url: "redis://127.0.0.1" } },
      {},
      /store\.encryptionKeyFile: .*encryption key/,
    ],
    [{ store: { type: "redis", encryptionKeyFile: "/k" } }, {}, /store\.url: Missing "url"/],
    [
      { store: { type: "redis", url: "https://:canary-pw@h/", encryptionKeyFile: "/k" } },
      {},
      /store\.url: .*redis:\/\//,
    ],
    [
      { store: { type: "redis", url: "redis://:canary-pw@h/x", encryptionKeyFile: "/k" } },
      {},
      /store\.url: .*database number/,
    ],
    [{ store: { type: "memcached" } }, {}, /store\.type/],
    [{ store: { type: "file", url: "redis://h" } }, {}, /store\.url: .*"type": "redis"/],
    [
      { store: { type: "redis", url: "redis://h", encryptionKeyFile: "/k", extra: 1 } },
      {},
      /extra/,
    ],
    [
      {},
      { TOOLSCRIPT_STORE_URL: "redis://:canary-pw@h" },
      /TOOLSCRIPT_STORE_URL: .*TOOLSCRIPT_STORE_KEY/,
    ],
  ];
  for (const [raw, env, pattern] of cases) {
    const error = (() => {
      try {
        validate(raw, env);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof ConfigError, `${JSON.stringify(raw)}: ${error}`);
    assert.match(error.message, pattern);
    assert.ok(error.message.includes(FILE), error.message);
    assert.ok(!error.message.includes("canary-pw"), error.message);
  }
});
