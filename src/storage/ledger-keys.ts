// LevelDB key layout of the ledger state:
//
//   [prefix][shard key 4B BE][account id 8B BE][kind 1B][suffix]
//
// kind ACCOUNT has no suffix, TRANSACTION is followed by the local id (8B BE) and
// CREATION_INDEX by the seq (8B BE; its value is the local id). The shard key comes first so
// that a shard's data is one contiguous range (snapshots, range moves), and the account id
// next so that an account's data is contiguous. The prefix separates the ledger states of
// several replicas in one database; prefixes used in one database must not be prefixes of each
// other.

import { assert } from "../base/assert.js";
import { cachedShardKey, shardKeyBytes, shardKeyMax } from "../cluster/shard-key.js";
import { readUint64BE, uint64Bytes } from "../ledger/ids.js";
import { isUint64 } from "../ledger/int64.js";

export const KeyKind = { account: 0x01, transaction: 0x02, creationIndex: 0x03 } as const;
export type KeyKind = (typeof KeyKind)[keyof typeof KeyKind];

/** The ledger prefix of the standalone server, which keeps one ledger state per database. */
export const standaloneLedgerPrefix: Uint8Array = Uint8Array.of(0x4c); // "L"

export interface KeyRange {
  readonly gte?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly lt?: Uint8Array;
}

export function accountRecordKey(prefix: Uint8Array, accountId: bigint): Uint8Array {
  return accountKey(prefix, accountId, KeyKind.account, undefined);
}

export function transactionRecordKey(prefix: Uint8Array, accountId: bigint, localId: bigint): Uint8Array {
  return accountKey(prefix, accountId, KeyKind.transaction, localId);
}

export function creationIndexKey(prefix: Uint8Array, accountId: bigint, seq: bigint): Uint8Array {
  return accountKey(prefix, accountId, KeyKind.creationIndex, seq);
}

/** Creation-index entries of one account with seq > afterSeq. */
export function creationIndexRangeAfter(prefix: Uint8Array, accountId: bigint, afterSeq: bigint): KeyRange {
  const end = accountKey(prefix, accountId, KeyKind.creationIndex + 1, undefined);
  return { gt: creationIndexKey(prefix, accountId, afterSeq), lt: end };
}

/** Every key of one account. */
export function accountKeyRange(prefix: Uint8Array, accountId: bigint): KeyRange {
  return boundedBy(accountKey(prefix, accountId, undefined, undefined));
}

/** Every key of the accounts whose shard key is in [lowerBound, upperBound] (a shard's range). */
export function shardKeyRange(prefix: Uint8Array, lowerBound: number, upperBound: number): KeyRange {
  assert(
    Number.isInteger(lowerBound) && lowerBound >= 0 && lowerBound <= upperBound && upperBound <= shardKeyMax,
    `bad shard range ${lowerBound}..${upperBound}`,
  );
  const gte = withShardKey(prefix, lowerBound);
  if (upperBound < shardKeyMax) return { gte, lt: withShardKey(prefix, upperBound + 1) };
  const lt = keySuccessor(prefix);
  return lt === undefined ? { gte } : { gte, lt };
}

/** Every key under `prefix`. */
export function prefixRange(prefix: Uint8Array): KeyRange {
  return boundedBy(prefix);
}

export interface DecodedLedgerKey {
  readonly shardKey: number;
  readonly accountId: bigint;
  readonly kind: number;
  /** Local id (TRANSACTION) or seq (CREATION_INDEX); undefined for ACCOUNT. */
  readonly suffix: bigint | undefined;
}

export function decodeLedgerKey(prefix: Uint8Array, key: Uint8Array): DecodedLedgerKey {
  assert(startsWith(key, prefix), "ledger key outside its prefix");
  const base = prefix.length;
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const kind = key[base + shardKeyBytes + uint64Bytes];
  assert(kind !== undefined, "ledger key too short");
  const suffixAt = base + shardKeyBytes + uint64Bytes + 1;
  const hasSuffix = kind !== KeyKind.account;
  assert(
    key.length === suffixAt + (hasSuffix ? uint64Bytes : 0),
    `ledger key of kind ${kind} has length ${key.length}`,
  );
  return {
    shardKey: view.getUint32(base, false),
    accountId: readUint64BE(key, base + shardKeyBytes),
    kind,
    suffix: hasSuffix ? readUint64BE(key, suffixAt) : undefined,
  };
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** The smallest key greater than every key that starts with `prefix`; undefined if none. */
export function keySuccessor(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const next = prefix.slice(0, end);
  next[end - 1] = next[end - 1]! + 1;
  return next;
}

function boundedBy(prefix: Uint8Array): KeyRange {
  const lt = keySuccessor(prefix);
  return lt === undefined ? { gte: prefix } : { gte: prefix, lt };
}

function withShardKey(prefix: Uint8Array, key: number): Uint8Array {
  const bytes = new Uint8Array(prefix.length + shardKeyBytes);
  bytes.set(prefix, 0);
  new DataView(bytes.buffer).setUint32(prefix.length, key, false);
  return bytes;
}

// Keys are built in one scratch buffer and copied out: one allocation per key instead of a
// Uint8Array and a DataView each (key building was a tenth of a node's busy time applying
// batches). Safe because nothing here awaits between writing the scratch and copying it.
const scratch = new Uint8Array(256);
const scratchView = new DataView(scratch.buffer);

/** [prefix][shard key][account id], then the kind byte and the suffix when given. */
function accountKey(
  prefix: Uint8Array,
  accountId: bigint,
  kind: number | undefined,
  suffix: bigint | undefined,
): Uint8Array {
  assert(kind !== undefined || suffix === undefined, "a key suffix needs a kind");
  // setBigUint64 wraps out-of-range values silently; ids and seqs are uint64 by contract.
  assert(
    isUint64(accountId) && (suffix === undefined || isUint64(suffix)),
    `key part out of uint64 range: ${accountId}/${suffix}`,
  );
  const base = prefix.length;
  const kindAt = base + shardKeyBytes + uint64Bytes;
  const length = kindAt + (kind === undefined ? 0 : 1) + (suffix === undefined ? 0 : uint64Bytes);
  assert(length <= scratch.length, `ledger key of ${length} bytes: prefix too long`);
  scratch.set(prefix, 0);
  scratchView.setUint32(base, cachedShardKey(accountId), false);
  scratchView.setBigUint64(base + shardKeyBytes, accountId, false);
  if (kind !== undefined) scratch[kindAt] = kind;
  if (suffix !== undefined) scratchView.setBigUint64(kindAt + 1, suffix, false);
  return scratch.slice(0, length);
}
