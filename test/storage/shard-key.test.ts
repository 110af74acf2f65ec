import { webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import { shardKeyCacheEntriesMax } from "../../src/cluster/limits.js";
import { cachedShardKey, shardKey } from "../../src/cluster/shard-key.js";

describe("shard key = first 4 bytes (BE) of SHA-256 over the 8-byte BE account id", () => {
  // Expected values from: printf '\x01\x23\x45\x67\x89\xab\xcd\xef' | sha256sum  (and likewise).
  it.each([
    [0x0123456789abcdefn, 0x55c53f5d],
    [0n, 0xaf5570f5], // above 2^31: the result is unsigned
    [0xffffffffffffffffn, 0x12a3ae44],
  ])("account %s has shard key %s (literal from sha256sum)", (accountId, expected) => {
    expect(shardKey(accountId)).toBe(expected);
  });

  it("agrees with WebCrypto SHA-256 on random ids", async () => {
    const prng = seededPrng(11);
    for (let i = 0; i < 50; i++) {
      const id = (BigInt(prng.nextU32()) << 32n) | BigInt(prng.nextU32());
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigUint64(0, id, false);
      const digest = new DataView(await webcrypto.subtle.digest("SHA-256", bytes));
      expect(shardKey(id)).toBe(digest.getUint32(0, false));
    }
  });
});

describe("cachedShardKey", () => {
  it("equals shardKey for every account, before and after the bounded cache is dropped when full", () => {
    const ids = Array.from(
      { length: shardKeyCacheEntriesMax + 500 },
      (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n) % (1n << 64n),
    );
    for (const pass of [1, 2]) {
      for (const id of ids) expect(cachedShardKey(id), `pass ${pass}, account ${id}`).toBe(shardKey(id));
    }
  });
});
