// The node database's key layout: entry keys sort by index, replicas and generations occupy
// disjoint ranges, and ids out of range are refused.

import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import type { KeyRange } from "../../src/storage/ledger-keys.js";
import {
  appliedIndexKey,
  entriesAfter,
  entryKey,
  entryKeyIndex,
  entryRange,
  generationsBelow,
  hardStateKey,
  ledgerGenerationKey,
  ledgerPrefix,
  ledgerPrefixBytes,
  otherGenerationRanges,
  replicaLedgerRange,
  snapshotMetadataKey,
} from "../../src/storage/replica-keys.js";

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

function inRange(key: Uint8Array, r: KeyRange): boolean {
  if (r.gte !== undefined && compare(key, r.gte) < 0) return false;
  if (r.gt !== undefined && compare(key, r.gt) <= 0) return false;
  if (r.lt !== undefined && compare(key, r.lt) >= 0) return false;
  return true;
}

const inAny = (key: Uint8Array, ranges: KeyRange[]): boolean => ranges.some((r) => inRange(key, r));
const ledgerKey = (replica: number, generation: number, ...rest: number[]): Uint8Array =>
  Uint8Array.of(...ledgerPrefix(replica, generation), ...rest);

describe("Raft keys", () => {
  it("entry keys sort by index across byte boundaries and decode back", () => {
    const indexes = [0, 1, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
    const keys = indexes.map((i) => entryKey(5, i));
    const sorted = keys.slice().sort(compare);
    expect(sorted).toEqual(keys);
    expect(keys.map((k) => entryKeyIndex(5, k))).toEqual(indexes);
    expect(entryKeyIndex(6, entryKey(5, 1))).toBeUndefined();
    expect(entryKeyIndex(5, hardStateKey(5))).toBeUndefined();
  });

  it("starts with 'R', the replica id and the kind; the singletons sort before the entries", () => {
    expect(Array.from(hardStateKey(0x01020304))).toEqual([0x52, 1, 2, 3, 4, 0x01]);
    const singletons = [hardStateKey(9), snapshotMetadataKey(9), appliedIndexKey(9), ledgerGenerationKey(9)];
    expect(new Set(singletons.map((k) => k.join())).size).toBe(4);
    for (const k of singletons) expect(compare(k, entryKey(9, 0))).toBeLessThan(0);
  });

  it("entryRange holds exactly the indexes asked for, and only this replica's", () => {
    const r = entryRange(3, 10, 20);
    expect([9, 10, 15, 20, 21].map((i) => inRange(entryKey(3, i), r))).toEqual([false, true, true, true, false]);
    expect(inRange(entryKey(4, 15), r)).toBe(false);
    expect(inRange(entryKey(2, 15), r)).toBe(false);
    const after = entriesAfter(3, 10);
    expect([10, 11, Number.MAX_SAFE_INTEGER].map((i) => inRange(entryKey(3, i), after))).toEqual([false, true, true]);
    expect(inRange(entryKey(4, 0), after)).toBe(false);
    expect(inRange(ledgerKey(3, 0), after)).toBe(false);
  });

  it("the largest replica id has a bounded entry range", () => {
    const top = 2 ** 32 - 1;
    const r = entryRange(top, 0, Number.MAX_SAFE_INTEGER);
    expect(inRange(entryKey(top, 7), r)).toBe(true);
    expect(inRange(entryKey(top - 1, 7), r)).toBe(false);
  });
});

describe("ledger prefixes", () => {
  it("are 9 bytes: 'L', replica id, generation", () => {
    expect(ledgerPrefixBytes).toBe(9);
    expect(Array.from(ledgerPrefix(0x0a0b0c0d, 0x01020304))).toEqual([0x4c, 0x0a, 0x0b, 0x0c, 0x0d, 1, 2, 3, 4]);
  });

  it("replicaLedgerRange covers every generation of one replica and nothing of its neighbours", () => {
    const r = replicaLedgerRange(7);
    expect(inRange(ledgerKey(7, 0, 1), r)).toBe(true);
    expect(inRange(ledgerKey(7, 2 ** 32 - 1, 0xff, 0xff), r)).toBe(true);
    expect(inRange(ledgerKey(6, 2 ** 32 - 1, 0xff), r)).toBe(false);
    expect(inRange(ledgerKey(8, 0), r)).toBe(false);
    expect(inRange(entryKey(7, 1), r)).toBe(false);
  });

  it("otherGenerationRanges covers every generation but the live one", () => {
    for (const live of [0, 1, 5, 2 ** 32 - 1]) {
      const ranges = otherGenerationRanges(7, live);
      expect(inAny(ledgerKey(7, live), ranges)).toBe(false);
      expect(inAny(ledgerKey(7, live, 0xff, 0xff, 0xff), ranges)).toBe(false);
      if (live > 0) expect(inAny(ledgerKey(7, live - 1, 0xff), ranges)).toBe(true);
      if (live < 2 ** 32 - 1) expect(inAny(ledgerKey(7, live + 1), ranges)).toBe(true);
      expect(inAny(ledgerKey(8, live + 1 < 2 ** 32 ? live + 1 : 0), ranges)).toBe(false);
      expect(inAny(ledgerKey(6, live), ranges)).toBe(false);
    }
    expect(otherGenerationRanges(7, 0)).toHaveLength(1);
  });

  it("generationsBelow stops right before the given generation", () => {
    const r = generationsBelow(7, 3);
    expect([0, 2, 3, 4].map((g) => inRange(ledgerKey(7, g, 1), r))).toEqual([true, true, false, false]);
  });
});

describe("validation", () => {
  it("refuses replica ids that are not positive integers below 2^32 and generations outside [0, 2^32)", () => {
    for (const bad of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => entryKey(bad, 1)).toThrow(AssertionError);
      expect(() => ledgerPrefix(bad, 0)).toThrow(AssertionError);
      expect(() => hardStateKey(bad)).toThrow(AssertionError);
    }
    for (const bad of [-1, 0.5, 2 ** 32]) expect(() => ledgerPrefix(1, bad)).toThrow(AssertionError);
    expect(() => entryKey(1, -1)).toThrow(AssertionError);
    expect(() => entryKey(1, 2 ** 53)).toThrow(AssertionError);
    expect(() => entryRange(1, 5, 4)).toThrow(AssertionError);
  });
});
