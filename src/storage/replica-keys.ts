// LevelDB key layout of the Raft replicas hosted by one node (one database per node).
//
// Raft data of replica R (R: 4-byte big-endian replica id, unique in the cluster):
//
//   "R"(0x52) [R 4B BE] 0x01                   hard state
//   "R"(0x52) [R 4B BE] 0x02                   snapshot metadata
//   "R"(0x52) [R 4B BE] 0x03                   applied index
//   "R"(0x52) [R 4B BE] 0x04                   ledger generation (which ledger state is live)
//   "R"(0x52) [R 4B BE] 0x10 [index 8B BE]     log entry (fixed width: keys sort by index)
//
// Ledger state of replica R at generation G (see LedgerStore, which appends its own keys):
//
//   "L"(0x4c) [R 4B BE] [G 4B BE]              ledgerPrefix(R, G), always 9 bytes
//
// All ledger prefixes have the same length, so none is a prefix of another. The standalone
// server's prefix is the single byte "L"; it never shares a database with these. A snapshot
// install stages the new state under another generation and switches the generation key in
// the same batch as the snapshot metadata, so a crash leaves either the old or the new state
// live; the other generations are garbage to clear.

import { assert } from "../base/assert.js";
import { keySuccessor, type KeyRange } from "./ledger-keys.js";

export const raftTag = 0x52; // "R"
export const ledgerTag = 0x4c; // "L"

export const RaftKeyKind = {
  hardState: 0x01,
  snapshotMetadata: 0x02,
  appliedIndex: 0x03,
  ledgerGeneration: 0x04,
  entry: 0x10,
} as const;
export type RaftKeyKind = (typeof RaftKeyKind)[keyof typeof RaftKeyKind];

const replicaIdBytes = 4;
const generationBytes = 4;
const indexBytes = 8;
const kindAt = 1 + replicaIdBytes;
const entryKeyBytes = kindAt + 1 + indexBytes;
const uint32Limit = 2 ** 32;

export const ledgerPrefixBytes = 1 + replicaIdBytes + generationBytes;

export function assertReplicaId(replicaId: number): void {
  assert(Number.isInteger(replicaId) && replicaId > 0 && replicaId < uint32Limit, () => `bad replica id ${replicaId}`);
}

export function assertGeneration(generation: number): void {
  assert(
    Number.isInteger(generation) && generation >= 0 && generation < uint32Limit,
    () => `bad ledger generation ${generation}`,
  );
}

function assertIndex(index: number): void {
  assert(Number.isSafeInteger(index) && index >= 0, () => `bad log index ${index}`);
}

/** "R" [R] [kind], the key of a per-replica singleton (hard state, snapshot, applied, generation). */
export function raftKey(replicaId: number, kind: RaftKeyKind): Uint8Array {
  assertReplicaId(replicaId);
  const key = new Uint8Array(kindAt + 1);
  key[0] = raftTag;
  new DataView(key.buffer).setUint32(1, replicaId, false);
  key[kindAt] = kind;
  return key;
}

export const hardStateKey = (replicaId: number): Uint8Array => raftKey(replicaId, RaftKeyKind.hardState);
export const snapshotMetadataKey = (replicaId: number): Uint8Array => raftKey(replicaId, RaftKeyKind.snapshotMetadata);
export const appliedIndexKey = (replicaId: number): Uint8Array => raftKey(replicaId, RaftKeyKind.appliedIndex);
export const ledgerGenerationKey = (replicaId: number): Uint8Array => raftKey(replicaId, RaftKeyKind.ledgerGeneration);

export function entryKey(replicaId: number, index: number): Uint8Array {
  assertReplicaId(replicaId);
  assertIndex(index);
  const key = new Uint8Array(entryKeyBytes);
  const view = new DataView(key.buffer);
  key[0] = raftTag;
  view.setUint32(1, replicaId, false);
  key[kindAt] = RaftKeyKind.entry;
  view.setBigUint64(kindAt + 1, BigInt(index), false);
  return key;
}

/** The index of an entry key of `replicaId`; undefined if `key` is not one. */
export function entryKeyIndex(replicaId: number, key: Uint8Array): number | undefined {
  if (key.length !== entryKeyBytes || key[0] !== raftTag || key[kindAt] !== RaftKeyKind.entry) return undefined;
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  if (view.getUint32(1, false) !== replicaId) return undefined;
  const index = view.getBigUint64(kindAt + 1, false);
  return index <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(index) : undefined;
}

/** Entry keys of `replicaId` with fromIndex <= index <= toIndexInclusive. */
export function entryRange(replicaId: number, fromIndex: number, toIndexInclusive: number): KeyRange {
  assert(fromIndex <= toIndexInclusive, () => `empty entry range ${fromIndex}..${toIndexInclusive}`);
  return { gte: entryKey(replicaId, fromIndex), lt: entryKeyAfter(replicaId, toIndexInclusive) };
}

/** Every entry key of `replicaId` with index > afterIndex. */
export function entriesAfter(replicaId: number, afterIndex: number): KeyRange {
  const end = raftKey(replicaId, RaftKeyKind.entry);
  end[kindAt] = RaftKeyKind.entry + 1;
  return { gt: entryKey(replicaId, afterIndex), lt: end };
}

export function ledgerPrefix(replicaId: number, generation: number): Uint8Array {
  assertReplicaId(replicaId);
  assertGeneration(generation);
  const prefix = new Uint8Array(ledgerPrefixBytes);
  const view = new DataView(prefix.buffer);
  prefix[0] = ledgerTag;
  view.setUint32(1, replicaId, false);
  view.setUint32(1 + replicaIdBytes, generation, false);
  return prefix;
}

/** The ledger state of `replicaId` in every generation. */
export function replicaLedgerRange(replicaId: number): KeyRange {
  return { gte: ledgerReplicaPrefix(replicaId), lt: ledgerReplicaEnd(replicaId) };
}

/** The ledger state of `replicaId` in generations [0, generation). */
export function generationsBelow(replicaId: number, generation: number): KeyRange {
  return { gte: ledgerReplicaPrefix(replicaId), lt: ledgerPrefix(replicaId, generation) };
}

/** Everything under "L"+R except generation `generation` (no empty range is returned). */
export function otherGenerationRanges(replicaId: number, generation: number): KeyRange[] {
  const ranges: KeyRange[] = [];
  if (generation > 0) ranges.push(generationsBelow(replicaId, generation));
  const after = keySuccessor(ledgerPrefix(replicaId, generation));
  assert(after !== undefined, "a ledger prefix has a successor");
  ranges.push({ gte: after, lt: ledgerReplicaEnd(replicaId) });
  return ranges;
}

/** The smallest entry key above every entry key with index <= index. */
function entryKeyAfter(replicaId: number, index: number): Uint8Array {
  const next = keySuccessor(entryKey(replicaId, index));
  assert(next !== undefined, "an entry key has a successor");
  return next;
}

function ledgerReplicaPrefix(replicaId: number): Uint8Array {
  return ledgerPrefix(replicaId, 0).subarray(0, 1 + replicaIdBytes);
}

/** The end of "L"+R: the replica id field is < 2^32 - 1 or the tag byte is bumped. */
function ledgerReplicaEnd(replicaId: number): Uint8Array {
  const end = keySuccessor(ledgerReplicaPrefix(replicaId));
  assert(end !== undefined, "a ledger replica prefix has a successor");
  return end;
}
