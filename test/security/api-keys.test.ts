// API keys: the stored form (salted scrypt, never the key), the keys file's checks, concurrent
// updates, and the gateway's key store: who a presented key is, cached after one scrypt,
// refused once revoked, and unchanged by a broken file.

import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { apiKeyWrongSecretsMax } from "../../src/security/limits.js";
import { join } from "node:path";
import { createLogger } from "../../src/base/logger.js";
import {
  newApiKey,
  parseKeysFile,
  parseToken,
  readKeysFile,
  roleAllows,
  tokenMatches,
  writeKeysFile,
} from "../../src/security/api-keys.js";
import { ApiKeyStore, AuthenticationFailure } from "../../src/security/key-store.js";
import { createKey, revokeKey } from "../../src/security/key-admin.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { autoCleanup } from "../support/cleanup.js";

autoCleanup();

const silent = createLogger({ name: "keys", level: "silent" });

async function failure(p: Promise<unknown>): Promise<AuthenticationFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AuthenticationFailure) return e;
    throw e;
  }
  throw new Error("expected an authentication failure");
}

describe("API keys", () => {
  it("are stored as a salted scrypt hash that verifies the key and nothing else", async () => {
    const { token, record } = await newApiKey("write", "test");
    expect(parseToken(token)?.id).toBe(record.id);
    expect(JSON.stringify(record)).not.toContain(token.slice(16));
    expect(await tokenMatches(record, token)).toBe(true);
    expect(await tokenMatches(record, token.slice(0, -1) + (token.endsWith("a") ? "b" : "a"))).toBe(false);
    const again = await newApiKey("write", "test");
    expect(again.record.scrypt.salt).not.toBe(record.scrypt.salt);
  });

  it("order their roles: admin covers write covers read", () => {
    expect([
      roleAllows("read", "read"),
      roleAllows("read", "write"),
      roleAllows("write", "read"),
      roleAllows("write", "admin"),
      roleAllows("admin", "write"),
    ]).toEqual([true, false, true, false, true]);
  });

  it.each([
    ["not JSON", "{", "content is not JSON"],
    ["another version", '{"version":2,"keys":[]}', "version must be 1"],
    [
      "a bad role",
      JSON.stringify({ version: 1, keys: [{ id: "0123456789ab", role: "root" }] }),
      "keys[0].role must be one of read, write, admin",
    ],
    [
      "a bad id",
      JSON.stringify({ version: 1, keys: [{ id: "XYZ", role: "read" }] }),
      "keys[0].id must be 12 lowercase hex characters",
    ],
    ["a huge scrypt cost", null, "keys[0].scrypt.n must be an integer from 1024 to 1048576"],
  ])("files with %s are refused naming the field", async (_what, text, message) => {
    let content = text;
    if (content === null) {
      const { record } = await newApiKey("read", "x");
      content = JSON.stringify({ version: 1, keys: [{ ...record, scrypt: { ...record.scrypt, n: 2 ** 30 } }] });
    }
    expect(() => parseKeysFile(content, "keys.json")).toThrow(`keys file keys.json: ${message}`);
  });

  it("keep both of two concurrent creations (the update is locked)", async () => {
    const path = join(await makeTempDir("keys-"), "api-keys.json");
    const made = await Promise.all([
      createKey(path, "read", "a"),
      createKey(path, "write", "b"),
      createKey(path, "admin", "c"),
    ]);
    const file = await readKeysFile(path);
    expect(file.keys.map((k) => k.id).sort()).toEqual(made.map((m) => m.id).sort());
    const text = await readFile(path, "utf8");
    for (const m of made) expect(text).not.toContain(m.token);
  });
});

describe("the gateway's key store", () => {
  let store: ApiKeyStore | undefined;
  afterEach(() => store?.close());

  async function storeWith(
    roles: ("read" | "write" | "admin")[],
  ): Promise<{ path: string; tokens: string[]; ids: string[] }> {
    const path = join(await makeTempDir("store-"), "api-keys.json");
    const keys = await Promise.all(roles.map((r) => newApiKey(r, r)));
    await writeKeysFile(path, { version: 1, keys: keys.map((k) => k.record) });
    store = await ApiKeyStore.open(path, silent, 60_000);
    return { path, tokens: keys.map((k) => k.token), ids: keys.map((k) => k.record.id) };
  }

  it("names the key and role of a good key, verifying it once however often and however concurrently it comes", async () => {
    const { tokens, ids } = await storeWith(["write"]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => store!.authenticate(`Bearer ${tokens[0]}`)));
    for (const a of answers) expect(a).toMatchObject({ id: ids[0], role: "write" });
    await store!.authenticate(`bearer ${tokens[0]}`);
    expect(store!.verifications).toBe(1);
  });

  it("refuses a missing, malformed, unknown or wrong key with UNAUTHENTICATED and says which", async () => {
    const { tokens, ids } = await storeWith(["read"]);
    const wrong = `lk_${ids[0]}_${"Z".repeat(43)}`;
    const cases: [string | undefined, string][] = [
      [undefined, "missing"],
      ["", "missing"],
      ["Basic abc", "malformed"],
      [`Bearer ${tokens[0]} extra`, "malformed"],
      [`Bearer lk_ffffffffffff_${"A".repeat(43)}`, "unknown"],
      [`Bearer ${wrong}`, "wrong secret"],
    ];
    for (const [value, reason] of cases) {
      const e = await failure(store!.authenticate(value));
      expect([e.code, e.reason], String(value)).toEqual(["UNAUTHENTICATED", reason]);
    }
    // The same wrong key again costs no second scrypt.
    const before = store!.verifications;
    await failure(store!.authenticate(`Bearer ${wrong}`));
    expect(store!.verifications).toBe(before);
  });

  it("refuses a key once the file marks it revoked, and keeps the others verified", async () => {
    const { path, tokens, ids } = await storeWith(["write", "read"]);
    await store!.authenticate(`Bearer ${tokens[0]}`);
    await store!.authenticate(`Bearer ${tokens[1]}`);
    await revokeKey(path, ids[0]!);
    await store!.check();
    expect((await failure(store!.authenticate(`Bearer ${tokens[0]}`))).reason).toBe("revoked");
    const verified = store!.verifications;
    expect(await store!.authenticate(`Bearer ${tokens[1]}`)).toMatchObject({ role: "read" });
    expect(store!.verifications).toBe(verified);
  });

  it("under a flood of made-up secrets for one known key id, runs a bounded number of scrypts and still admits another valid key at once", async () => {
    const { tokens, ids } = await storeWith(["read", "write"]);
    const flood = Array.from({ length: 1_100 }, () =>
      store!.authenticate(`Bearer lk_${ids[0]}_${randomBytes(32).toString("base64url")}`).catch((e: unknown) => e),
    );
    expect(await store!.authenticate(`Bearer ${tokens[1]}`)).toMatchObject({ id: ids[1], role: "write" });
    const outcomes = await Promise.all(flood);
    const reasons = new Map<string, number>();
    for (const o of outcomes) {
      expect(o).toBeInstanceOf(AuthenticationFailure);
      const reason = (o as AuthenticationFailure).reason;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    expect(reasons.get("wrong secret")).toBe(apiKeyWrongSecretsMax);
    // The rest: refused for holding too many places in the queue, or for the id's spent budget.
    for (const reason of reasons.keys()) expect(["wrong secret", "busy", "locked"]).toContain(reason);
    // The wrong secrets' budget plus the victim's one verification; the rest never ran scrypt.
    expect(store!.verifications).toBe(apiKeyWrongSecretsMax + 1);
    // The right secret of the flooded id is locked out too until the window ends, unless it was
    // verified before: a verified key never needs scrypt again.
    expect((await failure(store!.authenticate(`Bearer ${tokens[0]}`))).reason).toBe("locked");
  });

  it("keeps the previous keys when the file stops parsing, and takes a fixed file again", async () => {
    const { path, tokens } = await storeWith(["read"]);
    const good = await readFile(path, "utf8");
    await writeFile(path, "{ broken");
    await store!.check();
    expect(await store!.authenticate(`Bearer ${tokens[0]}`)).toMatchObject({ role: "read" });
    const extra = await newApiKey("admin", "later");
    const file = parseKeysFile(good, path);
    await writeKeysFile(path, { version: 1, keys: [...file.keys, extra.record] });
    await store!.check();
    expect(await store!.authenticate(`Bearer ${extra.token}`)).toMatchObject({ role: "admin" });
  });
});
