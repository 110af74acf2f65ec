// How one replica's Raft records are stored as LevelDB values (keys: replica-keys.ts).
//
// Fixed-width big-endian integers; u64 values are JS safe integers:
//   hard state          term u64 | vote u32 | commit u64
//   snapshot metadata   index u64 | term u64 | voters: count u32, ids u32... | learners: count u32, ids u32...
//   applied index       u64
//   ledger generation   u32
//   log entry           term u64 | type u8 | data (the rest); the index is in the key

import { assert } from "../base/assert.js";
import { EntryType } from "../raft/index.js";
import type { Entry, HardState, SnapshotMetadata } from "../raft/index.js";

/** The database holds something this code never writes: stop rather than guess. */
export class ReplicaLogCorruptError extends Error {
  override name = "ReplicaLogCorruptError";
}

const u32Bytes = 4;
const u64Bytes = 8;
const twoPow32 = 2 ** 32;
const hardStateBytes = u64Bytes + u32Bytes + u64Bytes;
const entryHeaderBytes = u64Bytes + 1;

function writeU64(view: DataView, at: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `not a u64 index or term: ${value}`);
  view.setUint32(at, Math.floor(value / twoPow32), false);
  view.setUint32(at + u32Bytes, value >>> 0, false);
}

function readU64(view: DataView, at: number): number {
  return view.getUint32(at, false) * twoPow32 + view.getUint32(at + u32Bytes, false);
}

function writeU32(view: DataView, at: number, value: number): void {
  assert(Number.isInteger(value) && value >= 0 && value < twoPow32, () => `not a u32: ${value}`);
  view.setUint32(at, value, false);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeHardState(hs: HardState): Uint8Array {
  const bytes = new Uint8Array(hardStateBytes);
  const view = viewOf(bytes);
  writeU64(view, 0, hs.term);
  writeU32(view, u64Bytes, hs.vote);
  writeU64(view, u64Bytes + u32Bytes, hs.commit);
  return bytes;
}

export function encodeSnapshotMetadata(meta: SnapshotMetadata): Uint8Array {
  const { voters, learners } = meta.confState;
  const bytes = new Uint8Array(2 * u64Bytes + (2 + voters.length + learners.length) * u32Bytes);
  const view = viewOf(bytes);
  writeU64(view, 0, meta.index);
  writeU64(view, u64Bytes, meta.term);
  let at = 2 * u64Bytes;
  for (const ids of [voters, learners]) {
    writeU32(view, at, ids.length);
    at += u32Bytes;
    for (const id of ids) {
      writeU32(view, at, id);
      at += u32Bytes;
    }
  }
  return bytes;
}

export function encodeU64Record(value: number): Uint8Array {
  const bytes = new Uint8Array(u64Bytes);
  writeU64(viewOf(bytes), 0, value);
  return bytes;
}

export function encodeGeneration(generation: number): Uint8Array {
  const bytes = new Uint8Array(u32Bytes);
  writeU32(viewOf(bytes), 0, generation);
  return bytes;
}

export function encodeEntry(e: Entry): Uint8Array {
  const bytes = new Uint8Array(entryHeaderBytes + e.data.byteLength);
  const view = viewOf(bytes);
  writeU64(view, 0, e.term);
  bytes[u64Bytes] = e.type;
  bytes.set(e.data, entryHeaderBytes);
  return bytes;
}

/** Decoders that name the replica in every complaint. */
export class RecordCodec {
  constructor(readonly replicaId: number) {}

  check(condition: boolean, problem: string): asserts condition {
    if (!condition) throw new ReplicaLogCorruptError(`replica ${this.replicaId}: corrupt Raft log: ${problem}`);
  }

  hardState(bytes: Uint8Array): HardState {
    this.check(bytes.byteLength === hardStateBytes, `hard state of ${bytes.byteLength} bytes`);
    const view = viewOf(bytes);
    const hs = {
      term: readU64(view, 0),
      vote: view.getUint32(u64Bytes, false),
      commit: readU64(view, u64Bytes + u32Bytes),
    };
    this.safe(hs.term, "hard state term");
    this.safe(hs.commit, "hard state commit");
    return hs;
  }

  snapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
    const view = viewOf(bytes);
    const ids = (at: number): number[] => {
      this.check(at + u32Bytes <= bytes.byteLength, "truncated snapshot metadata");
      const count = view.getUint32(at, false);
      this.check(at + u32Bytes * (1 + count) <= bytes.byteLength, "truncated snapshot metadata");
      return Array.from({ length: count }, (_, i) => view.getUint32(at + u32Bytes * (1 + i), false));
    };
    this.check(bytes.byteLength >= 2 * u64Bytes, "truncated snapshot metadata");
    const index = this.safe(readU64(view, 0), "snapshot index");
    const term = this.safe(readU64(view, u64Bytes), "snapshot term");
    const voters = ids(2 * u64Bytes);
    const learnersAt = 2 * u64Bytes + u32Bytes * (1 + voters.length);
    const learners = ids(learnersAt);
    this.check(
      learnersAt + u32Bytes * (1 + learners.length) === bytes.byteLength,
      "trailing bytes in snapshot metadata",
    );
    return { index, term, confState: { voters, learners } };
  }

  u64Record(bytes: Uint8Array, what: string): number {
    this.check(bytes.byteLength === u64Bytes, `${what} of ${bytes.byteLength} bytes`);
    return this.safe(readU64(viewOf(bytes), 0), what);
  }

  generation(bytes: Uint8Array): number {
    this.check(bytes.byteLength === u32Bytes, `ledger generation of ${bytes.byteLength} bytes`);
    return viewOf(bytes).getUint32(0, false);
  }

  entry(index: number, bytes: Uint8Array): Entry {
    this.check(bytes.byteLength >= entryHeaderBytes, `entry ${index} of ${bytes.byteLength} bytes`);
    const term = this.safe(readU64(viewOf(bytes), 0), `term of entry ${index}`);
    const type = bytes[u64Bytes];
    this.check(type === EntryType.Normal || type === EntryType.ConfChange, `entry ${index} has unknown type ${type}`);
    // A plain Uint8Array copy: classic-level hands out Buffers (whose slice() does not copy),
    // values read in bulk may share memory, and the log keeps entries for a long time.
    return { term, index, type, data: new Uint8Array(bytes.subarray(entryHeaderBytes)) };
  }

  private safe(value: number, what: string): number {
    this.check(Number.isSafeInteger(value), `${what} ${value} is beyond 2^53`);
    return value;
  }
}
