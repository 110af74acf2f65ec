// The persistent Raft log of one replica, on the node's LevelDB (key layout: replica-keys.ts).
//
// The Raft core reads its Storage synchronously, so the log since the last snapshot lives in
// memory and is mirrored to LevelDB: persistReady, setApplied and compact update memory at once
// and add the matching puts and deletes to the caller's chained batch. The caller writes the
// batch (synced) before anything reads again; a failed write ends the process, so memory never
// runs ahead of a database that will be reopened.
//
// Stored entries are exactly the in-memory log, plus possibly entries at or below the snapshot
// index left for a lazy cleanup: deleting a long compacted prefix key by key would bloat the
// synced batch, so those are reported by pendingCleanup() and cleared with one db.clear after
// the batch is written. load() finds them again after a crash. Entries above the snapshot index
// that a snapshot or a conflicting append replaces are deleted in the same batch instead: a
// stale entry past the last index could otherwise be mistaken for part of the log.
//
// Value encoding: replica-records.ts.

import { assert } from "../base/assert.js";
import { replicaLogEntryOverheadBytes, replicaLogLoadEntriesPerStep } from "./limits.js";
import { limitEntriesBytes } from "../raft/index.js";
import { EntryType, RaftError, applyConfChangeTo, decodeConfChange } from "../raft/index.js";
import type { ConfState, Entry, HardState, Ready, Snapshot, SnapshotMetadata, Storage } from "../raft/index.js";
import type { KeyRange } from "./ledger-keys.js";
import type { LedgerDb } from "./ledger-store.js";
import {
  RecordCodec,
  encodeHardState,
  encodeSnapshotMetadata,
  encodeU64Record,
  encodeGeneration,
  encodeEntry,
} from "./replica-records.js";
export { ReplicaLogCorruptError } from "./replica-records.js";
import {
  appliedIndexKey,
  assertGeneration,
  assertReplicaId,
  entriesAfter,
  entryKey,
  entryKeyIndex,
  entryRange,
  generationsBelow,
  hardStateKey,
  ledgerGenerationKey,
  otherGenerationRanges,
  snapshotMetadataKey,
} from "./replica-keys.js";

/** What the log needs of a chained batch (`db.batch()`); never the array form (STACK.md). */
export interface LogBatch {
  put(key: Uint8Array, value: Uint8Array): unknown;
  del(key: Uint8Array): unknown;
}

export class ReplicaLog implements Storage {
  private hard: HardState;
  private snap: SnapshotMetadata;
  private appliedIndex: number;
  private gen: number;
  /** The log after the snapshot: ents[i].index === snap.index + 1 + i. */
  private ents: Entry[];
  private payloadBytes: number;
  /**
   * The membership after each conf change applied since the snapshot, oldest first, starting
   * with the snapshot's own (at its index). Not stored: it is the snapshot's membership plus the
   * conf change entries up to the applied index, all of which the log keeps, so load rebuilds it.
   */
  private confHistory: { index: number; cs: ConfState }[] = [];
  /** Lowest index of stored entries at or below the snapshot index still to clear, if any. */
  private staleEntriesFrom: number | undefined;
  /** Ledger state of dead generations still to clear. */
  private staleLedger: KeyRange[];
  /**
   * Load found dead ledger generations and pendingCleanup() has not handed them out yet. Those
   * ranges may cover the generation the next snapshot is staged under, so they must be queued
   * before any staging write (the writer keeps the order); installing a snapshot before that
   * is a driver bug.
   */
  private loadGarbageUnreported: boolean;
  /** What the last pendingCleanup() call handed out (cleanupDone() retires exactly that). */
  private reported: { ledgerRanges: number; entriesThrough: number | undefined } | undefined = undefined;

  private constructor(
    readonly replicaId: number,
    state: { hard: HardState; snap: SnapshotMetadata; applied: number; generation: number; ents: Entry[] },
    staleEntriesFrom: number | undefined,
    staleLedger: KeyRange[],
  ) {
    this.hard = state.hard;
    this.snap = state.snap;
    this.appliedIndex = state.applied;
    this.gen = state.generation;
    this.ents = state.ents;
    this.payloadBytes = 0;
    for (const e of this.ents) this.payloadBytes += e.data.byteLength;
    this.confHistory = [{ index: this.snap.index, cs: copyConfState(this.snap.confState) }];
    this.noteConfChanges(this.snap.index, this.appliedIndex);
    this.staleEntriesFrom = staleEntriesFrom;
    this.staleLedger = staleLedger;
    this.loadGarbageUnreported = staleLedger.length > 0;
  }

  /**
   * Reads the replica's state; a replica never written gets the defaults (empty log, confState
   * from `voters`, applied 0, generation 0). Throws ReplicaLogCorruptError when the stored log
   * is not a contiguous run after the snapshot or a record does not decode.
   */
  static async load(db: LedgerDb, replicaId: number, voters: readonly number[]): Promise<ReplicaLog> {
    assertReplicaId(replicaId);
    const [hardBytes, snapBytes, appliedBytes, genBytes] = await db.getMany([
      hardStateKey(replicaId),
      snapshotMetadataKey(replicaId),
      appliedIndexKey(replicaId),
      ledgerGenerationKey(replicaId),
    ]);
    const codec: RecordCodec = new RecordCodec(replicaId);
    const hard = hardBytes === undefined ? { term: 0, vote: 0, commit: 0 } : codec.hardState(hardBytes);
    const snap =
      snapBytes === undefined
        ? { index: 0, term: 0, confState: { voters: voters.slice(), learners: [] } }
        : codec.snapshotMetadata(snapBytes);
    const applied = appliedBytes === undefined ? 0 : codec.u64Record(appliedBytes, "applied index");
    const generation = genBytes === undefined ? 0 : codec.generation(genBytes);
    const ents = await readLog(db, codec, snap);
    const lastIndex = snap.index + ents.length;
    const lastTerm = ents.length > 0 ? (ents[ents.length - 1] as Entry).term : snap.term;
    codec.check(
      applied >= snap.index && applied <= lastIndex,
      `applied index ${applied} is outside [${snap.index}, ${lastIndex}]`,
    );
    codec.check(hard.commit <= lastIndex, `commit ${hard.commit} is past the last index ${lastIndex}`);
    codec.check(
      lastTerm <= hard.term,
      `log term ${lastTerm} at index ${lastIndex} is above the hard state term ${hard.term}`,
    );
    const staleFrom = await firstStaleEntry(db, replicaId, snap.index);
    const staleLedger = await nonEmptyRanges(db, otherGenerationRanges(replicaId, generation));
    return new ReplicaLog(replicaId, { hard, snap, applied, generation, ents }, staleFrom, staleLedger);
  }

  // --- Storage (read by the Raft core) ------------------------------------------------------

  /** The membership as of the applied index (the snapshot's, moved on by applied conf changes). */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hard }, confState: this.confStateAt(this.appliedIndex) };
  }

  /** The membership as of `index`, which is at or after the snapshot and at most applied. */
  confStateAt(index: number): ConfState {
    assert(
      index >= this.snap.index && index <= this.appliedIndex,
      () => `replica ${this.replicaId}: membership at ${index} is outside [${this.snap.index}, ${this.appliedIndex}]`,
    );
    let at = this.confHistory[0] as { index: number; cs: ConfState };
    for (const h of this.confHistory) if (h.index <= index) at = h;
    return copyConfState(at.cs);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.snap.index;
    if (lo <= offset)
      throw new RaftError("COMPACTED", `replica ${this.replicaId}: entries from ${lo}: compacted through ${offset}`);
    const last = this.lastIndex();
    if (hi > last + 1)
      throw new RaftError("UNAVAILABLE", `replica ${this.replicaId}: entries to ${hi}: last index is ${last}`);
    if (lo >= hi) return [];
    return limitEntriesBytes(this.ents.slice(lo - offset - 1, hi - offset - 1), maxBytes);
  }

  term(index: number): number {
    const offset = this.snap.index;
    if (index < offset)
      throw new RaftError("COMPACTED", `replica ${this.replicaId}: term of ${index}: compacted through ${offset}`);
    if (index === offset) return this.snap.term;
    const e = this.ents[index - offset - 1];
    if (e === undefined)
      throw new RaftError(
        "UNAVAILABLE",
        `replica ${this.replicaId}: term of ${index}: last index is ${this.lastIndex()}`,
      );
    return e.term;
  }

  firstIndex(): number {
    return this.snap.index + 1;
  }

  lastIndex(): number {
    return this.snap.index + this.ents.length;
  }

  /** The metadata only: the node streams the ledger state itself. */
  snapshot(): Snapshot {
    return { metadata: this.snapshotMetadata(), data: new Uint8Array(0) };
  }

  // --- accessors ----------------------------------------------------------------------------

  applied(): number {
    return this.appliedIndex;
  }

  /** Which ledger state is live: ledgerPrefix(replicaId, generation()). */
  generation(): number {
    return this.gen;
  }

  hardState(): HardState {
    return { ...this.hard };
  }

  snapshotMetadata(): SnapshotMetadata {
    return { index: this.snap.index, term: this.snap.term, confState: copyConfState(this.snap.confState) };
  }

  /** Approximate payload bytes of the entries held in memory. */
  memoryBytes(): number {
    return this.payloadBytes;
  }

  entryCount(): number {
    return this.ents.length;
  }

  /** Estimated heap bytes of the entries held in memory: payloads plus each entry's objects. */
  heldBytes(): number {
    return this.payloadBytes + this.ents.length * replicaLogEntryOverheadBytes;
  }

  /**
   * The compaction index that keeps at most `maxEntries` entries and `maxBytes` held bytes
   * (heldBytes' measure) at or below `upTo`: the catch-up tail a compaction leaves. Returns the
   * snapshot index when nothing below `upTo` can go.
   */
  keepTail(upTo: number, maxEntries: number, maxBytes: number): number {
    const offset = this.snap.index;
    assert(
      upTo >= offset && upTo <= this.lastIndex(),
      () => `replica ${this.replicaId}: tail end ${upTo} out of range`,
    );
    let to = upTo;
    let bytes = 0;
    while (to > offset && upTo - to < maxEntries) {
      const b = (this.ents[to - offset - 1] as Entry).data.byteLength + replicaLogEntryOverheadBytes;
      if (bytes + b > maxBytes) break;
      bytes += b;
      to--;
    }
    return to;
  }

  // --- write side (memory now, the database when the caller writes `batch`) ----------------

  /**
   * Adds what `rd` requires to `batch`: its snapshot (with `options.generation`, the ledger
   * generation staged for it), then its entries, then its hard state.
   */
  persistReady(rd: Ready, batch: LogBatch, options: { generation?: number } = {}): void {
    if (rd.snapshot !== undefined) {
      assert(
        options.generation !== undefined,
        `replica ${this.replicaId}: a snapshot needs the generation of its staged ledger state`,
      );
      this.installSnapshot(rd.snapshot.metadata, options.generation, batch);
    } else {
      assert(options.generation === undefined, `replica ${this.replicaId}: a generation without a snapshot`);
    }
    if (rd.entries.length > 0) this.append(rd.entries, batch);
    if (rd.hardState !== undefined) this.putHardState(rd.hardState, batch);
  }

  setApplied(index: number, batch: LogBatch): void {
    assert(
      index >= this.appliedIndex,
      () => `replica ${this.replicaId}: applied index going back from ${this.appliedIndex} to ${index}`,
    );
    assert(
      index <= this.lastIndex(),
      () => `replica ${this.replicaId}: applied ${index} is past the last index ${this.lastIndex()}`,
    );
    const before = this.appliedIndex;
    this.appliedIndex = index;
    this.noteConfChanges(before, index);
    batch.put(appliedIndexKey(this.replicaId), encodeU64Record(index));
  }

  /** Records the membership after each conf change entry in (from, to] (both applied now). */
  private noteConfChanges(from: number, to: number): void {
    const offset = this.snap.index;
    for (let i = Math.max(from, offset) + 1; i <= to; i++) {
      const e = this.ents[i - offset - 1] as Entry;
      if (e.type !== EntryType.ConfChange) continue;
      const cc = decodeConfChange(e.data);
      const last = (this.confHistory[this.confHistory.length - 1] as { cs: ConfState }).cs;
      // A change that does not decode or fit is skipped by the core too (applyConfChangeTo
      // returns the membership unchanged for one that does not fit).
      if (typeof cc !== "string") this.confHistory.push({ index: i, cs: applyConfChangeTo(last, cc) });
    }
  }

  /** The replica's ledger state at `index` is a snapshot: drop the log through `index`. */
  compact(index: number, batch: LogBatch): void {
    const old = this.snap.index;
    assert(index > old, () => `replica ${this.replicaId}: compact ${index} is not past the snapshot ${old}`);
    assert(
      index <= this.appliedIndex,
      () => `replica ${this.replicaId}: compact ${index} is past the applied index ${this.appliedIndex}`,
    );
    const meta: SnapshotMetadata = { index, term: this.term(index), confState: this.confStateAt(index) };
    // The history before the new snapshot collapses into its membership.
    this.confHistory = [
      { index, cs: copyConfState(meta.confState) },
      ...this.confHistory.filter((h) => h.index > index),
    ];
    for (const e of this.ents.slice(0, index - old)) this.payloadBytes -= e.data.byteLength;
    this.ents = this.ents.slice(index - old);
    this.staleEntriesFrom ??= old + 1;
    this.putSnapshot(meta, batch);
  }

  /**
   * Key ranges of dead data to clear with db.clear once the batch that made them dead is
   * written: entries at or below the snapshot index, ledger state of dead generations. After
   * load, call it once before anything else and queue its clears on the writer at once: the
   * ledger garbage a crash left (any generation but the live one) may include the generation
   * the next snapshot will be staged under.
   */
  pendingCleanup(): KeyRange[] {
    const ranges = this.staleLedger.slice();
    let entriesThrough: number | undefined;
    if (this.staleEntriesFrom !== undefined) {
      entriesThrough = this.snap.index;
      ranges.push(entryRange(this.replicaId, this.staleEntriesFrom, entriesThrough));
    }
    this.reported = { ledgerRanges: this.staleLedger.length, entriesThrough };
    this.loadGarbageUnreported = false;
    return ranges;
  }

  /** The ranges of the last pendingCleanup() call are cleared (later garbage stays pending). */
  cleanupDone(): void {
    const r = this.reported;
    if (r === undefined) return;
    this.reported = undefined;
    this.staleLedger.splice(0, r.ledgerRanges);
    if (r.entriesThrough !== undefined) {
      this.staleEntriesFrom = r.entriesThrough >= this.snap.index ? undefined : r.entriesThrough + 1;
    }
  }

  private installSnapshot(meta: SnapshotMetadata, generation: number, batch: LogBatch): void {
    const old = this.snap.index;
    const oldLast = this.lastIndex();
    assert(meta.index > old, () => `replica ${this.replicaId}: snapshot ${meta.index} is not newer than ${old}`);
    assertGeneration(generation);
    assert(
      generation > this.gen,
      () => `replica ${this.replicaId}: snapshot generation ${generation} is not past ${this.gen}`,
    );
    assert(
      !this.loadGarbageUnreported,
      () => `replica ${this.replicaId}: queue the clears of pendingCleanup() after load before staging a snapshot`,
    );
    for (let i = meta.index + 1; i <= oldLast; i++) batch.del(entryKey(this.replicaId, i));
    if (this.ents.length > 0) this.staleEntriesFrom ??= old + 1;
    this.ents = [];
    this.payloadBytes = 0;
    this.confHistory = [{ index: meta.index, cs: copyConfState(meta.confState) }];
    this.putSnapshot({ index: meta.index, term: meta.term, confState: copyConfState(meta.confState) }, batch);
    this.appliedIndex = meta.index;
    batch.put(appliedIndexKey(this.replicaId), encodeU64Record(meta.index));
    this.staleLedger.push(generationsBelow(this.replicaId, generation));
    this.gen = generation;
    batch.put(ledgerGenerationKey(this.replicaId), encodeGeneration(generation));
    // Everything in a snapshot is committed; the Ready's hard state normally says so already.
    if (this.hard.commit < meta.index) this.putHardState({ ...this.hard, commit: meta.index }, batch);
  }

  /** Appends contiguous entries, replacing any conflicting suffix; compacted ones are skipped. */
  private append(entries: readonly Entry[], batch: LogBatch): void {
    const offset = this.snap.index;
    const skip = Math.max(0, offset + 1 - (entries[0] as Entry).index);
    if (skip >= entries.length) return;
    const start = (entries[skip] as Entry).index;
    const oldLast = this.lastIndex();
    assert(start <= oldLast + 1, () => `replica ${this.replicaId}: append at ${start} leaves a gap after ${oldLast}`);
    assert(
      start > this.appliedIndex,
      () => `replica ${this.replicaId}: append at ${start} replaces applied entries (applied ${this.appliedIndex})`,
    );
    for (const e of this.ents.slice(start - offset - 1)) this.payloadBytes -= e.data.byteLength;
    this.ents.length = start - offset - 1;
    let expected = start;
    for (let i = skip; i < entries.length; i++) {
      const e = entries[i] as Entry;
      assert(e.index === expected, () => `replica ${this.replicaId}: entries not contiguous at ${e.index}`);
      expected++;
      const kept = ownedEntry(e);
      this.ents.push(kept);
      this.payloadBytes += kept.data.byteLength;
      batch.put(entryKey(this.replicaId, e.index), encodeEntry(kept));
    }
    const newLast = this.lastIndex();
    for (let i = newLast + 1; i <= oldLast; i++) batch.del(entryKey(this.replicaId, i));
  }

  private putHardState(hs: HardState, batch: LogBatch): void {
    this.hard = { term: hs.term, vote: hs.vote, commit: hs.commit };
    batch.put(hardStateKey(this.replicaId), encodeHardState(this.hard));
  }

  private putSnapshot(meta: SnapshotMetadata, batch: LogBatch): void {
    this.snap = meta;
    batch.put(snapshotMetadataKey(this.replicaId), encodeSnapshotMetadata(meta));
  }
}

function copyConfState(cs: ConfState): ConfState {
  return { voters: cs.voters.slice(), learners: cs.learners.slice() };
}

/**
 * `e` with data that owns its memory. A received entry's data is a view into the peer batch it
 * came in, often a slice of Node's shared 8 KiB Buffer pool, and the log keeps entries for
 * thousands of turns: a 100-byte view would pin the whole slab (a heap snapshot at 100,000
 * accounts found 45 MB of 8 KiB slabs held by log entries). One copy on append, of bytes that
 * are about to be encoded for the write anyway, makes the log's memory what memoryBytes() says.
 */
function ownedEntry(e: Entry): Entry {
  const d = e.data;
  if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) return e;
  return { term: e.term, index: e.index, type: e.type, data: new Uint8Array(d) }; // copies, even a Buffer
}

// --- load helpers ---------------------------------------------------------------------------

/** The stored entries after the snapshot, checked to be a contiguous run with terms not going back. */
async function readLog(db: LedgerDb, codec: RecordCodec, snap: SnapshotMetadata): Promise<Entry[]> {
  const ents: Entry[] = [];
  let expected = snap.index + 1;
  let prevTerm = snap.term;
  const it = db.iterator(entriesAfter(codec.replicaId, snap.index));
  try {
    for (;;) {
      const step = await it.nextv(replicaLogLoadEntriesPerStep);
      if (step.length === 0) break;
      for (const [key, value] of step) {
        const index = entryKeyIndex(codec.replicaId, key);
        codec.check(index !== undefined, "malformed entry key");
        codec.check(index === expected, `log gap: expected entry ${expected}, found entry ${index}`);
        const e = codec.entry(index, value);
        codec.check(e.term >= prevTerm, `entry ${index} has term ${e.term} below the term ${prevTerm} before it`);
        ents.push(e);
        prevTerm = e.term;
        expected++;
      }
    }
  } finally {
    await it.close();
  }
  return ents;
}

/** The lowest stored entry index at or below the snapshot index (left by a lazy cleanup). */
async function firstStaleEntry(db: LedgerDb, replicaId: number, snapshotIndex: number): Promise<number | undefined> {
  if (snapshotIndex === 0) return undefined;
  const keys = await db.keys({ ...entryRange(replicaId, 0, snapshotIndex), limit: 1 }).all();
  const key = keys[0];
  return key === undefined ? undefined : entryKeyIndex(replicaId, key);
}

async function nonEmptyRanges(db: LedgerDb, ranges: readonly KeyRange[]): Promise<KeyRange[]> {
  const found: KeyRange[] = [];
  for (const range of ranges) {
    const keys = await db.keys({ ...range, limit: 1 }).all();
    if (keys.length > 0) found.push(range);
  }
  return found;
}
