import { describe, expect, it } from "vitest";
import { shardKey } from "../../src/cluster/shard-key.js";
import {
  accountRecordKey,
  creationIndexKey,
  decodeLedgerKey,
  KeyKind,
  keySuccessor,
  shardKeyRange,
  transactionRecordKey,
} from "../../src/storage/ledger-keys.js";

const prefix = Uint8Array.of(0x10, 0x20);
const accountId = 0x0123456789abcdefn;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

describe("ledger key layout", () => {
  it("is [prefix][shard key BE][account id BE][kind][suffix BE]", () => {
    const key = transactionRecordKey(prefix, accountId, 0x0a0bn);
    expect([...key]).toEqual([
      0x10,
      0x20,
      0x55,
      0xc5,
      0x3f,
      0x5d,
      0x01,
      0x23,
      0x45,
      0x67,
      0x89,
      0xab,
      0xcd,
      0xef,
      KeyKind.transaction,
      0,
      0,
      0,
      0,
      0,
      0,
      0x0a,
      0x0b,
    ]);
    expect(decodeLedgerKey(prefix, key)).toEqual({
      shardKey: shardKey(accountId),
      accountId,
      kind: KeyKind.transaction,
      suffix: 0x0a0bn,
    });
    expect(decodeLedgerKey(prefix, accountRecordKey(prefix, accountId))).toEqual({
      shardKey: 0x55c53f5d,
      accountId,
      kind: KeyKind.account,
      suffix: undefined,
    });
  });

  it("creation-index keys sort in numeric seq order", () => {
    const seqs = [1n, 2n, 255n, 256n, 65_536n, (1n << 63n) + 1n];
    const keys = seqs.map((seq) => creationIndexKey(prefix, accountId, seq));
    const sorted = [...keys].sort(compareBytes);
    expect(sorted).toEqual(keys);
  });

  it("keySuccessor bounds every key under a prefix, carrying over 0xff", () => {
    expect([...keySuccessor(Uint8Array.of(0x10, 0x20))!]).toEqual([0x10, 0x21]);
    expect([...keySuccessor(Uint8Array.of(0x10, 0xff, 0xff))!]).toEqual([0x11]);
    expect(keySuccessor(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    expect(keySuccessor(new Uint8Array(0))).toBeUndefined();
  });

  it("a shard range holds exactly the keys whose shard key is inside it, up to the top of the key space", () => {
    const key = accountRecordKey(prefix, accountId); // shard key 0x55c53f5d
    const inside = (range: ReturnType<typeof shardKeyRange>): boolean =>
      compareBytes(key, range.gte!) >= 0 && (range.lt === undefined || compareBytes(key, range.lt) < 0);
    expect(inside(shardKeyRange(prefix, 0x55c53f5d, 0x55c53f5d))).toBe(true);
    expect(inside(shardKeyRange(prefix, 0, 0x55c53f5c))).toBe(false);
    expect(inside(shardKeyRange(prefix, 0x55c53f5e, 0xffffffff))).toBe(false);
    const top = shardKeyRange(prefix, 0x40000000, 0xffffffff);
    expect(inside(top)).toBe(true);
    expect([...top.lt!]).toEqual([0x10, 0x21]);
  });
});
