// An in-memory Storage for tests and the simulator, with the write side a driver needs:
// persist a Ready (applySnapshot, append, setHardState), take a snapshot and compact. `clone()`
// copies what is "persisted" so a simulator can model a crash that keeps only synced state.
//
// Layout: ents[0] is a dummy entry at the snapshot's index and term (index 0, term 0 for a new
// log), so that term(firstIndex() - 1) answers the snapshot's term without a special case.

import { assert } from "../base/assert.js";
import { limitEntriesBytes } from "./entry-size.js";
import { EntryType, RaftError } from "./types.js";
import type { ConfState, Entry, HardState, Snapshot, Storage } from "./types.js";

function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };
}

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }];
  /** The membership as of the application's applied index, once it applied a conf change. */
  private appliedConf: ConfState | undefined = undefined;

  initialState(): { hardState: HardState; confState: ConfState } {
    const cs = this.appliedConf ?? this.snap.metadata.confState;
    return {
      hardState: { ...this.hardState },
      confState: { voters: cs.voters.slice(), learners: cs.learners.slice() },
    };
  }

  hardStateCopy(): HardState {
    return { ...this.hardState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new RaftError("COMPACTED", `entries from ${lo}: compacted through ${offset}`);
    if (hi > this.lastIndex() + 1)
      throw new RaftError("UNAVAILABLE", `entries to ${hi}: last index is ${this.lastIndex()}`);
    if (lo >= hi) return [];
    return limitEntriesBytes(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(index: number): number {
    const offset = this.offset();
    if (index < offset) throw new RaftError("COMPACTED", `term of ${index}: compacted through ${offset}`);
    const e = this.ents[index - offset];
    if (e === undefined) throw new RaftError("UNAVAILABLE", `term of ${index}: last index is ${this.lastIndex()}`);
    return e.term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // --- write side (the driver persisting a Ready, the application compacting) ---------------

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** The application applied a conf change: `cs` is the membership a restart starts from. */
  setConfState(cs: ConfState): void {
    this.appliedConf = { voters: cs.voters.slice(), learners: cs.learners.slice() };
  }

  /** Replaces the whole log by `snap` (a Ready's snapshot from the leader). */
  applySnapshot(snap: Snapshot): void {
    const { index, term } = snap.metadata;
    if (index <= this.snap.metadata.index) {
      throw new RaftError("SNAPSHOT_OUT_OF_DATE", `snapshot ${index} is not newer than ${this.snap.metadata.index}`);
    }
    this.snap = snap;
    this.appliedConf = undefined; // the snapshot's membership is the applied one now
    this.ents = [{ term, index, type: EntryType.Normal, data: new Uint8Array(0) }];
    if (this.hardState.commit < index) this.hardState = { ...this.hardState, commit: index };
  }

  /** Records the application's snapshot at `index` (<= applied); does not compact. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError("SNAPSHOT_OUT_OF_DATE", `snapshot ${index} is not newer than ${this.snap.metadata.index}`);
    }
    assert(index <= this.lastIndex(), `createSnapshot ${index} is past the last index ${this.lastIndex()}`);
    const term = this.term(index);
    this.snap = {
      metadata: { index, term, confState: { voters: confState.voters.slice(), learners: confState.learners.slice() } },
      data,
    };
    return this.snap;
  }

  /** Discards entries before `index`; entry `index` becomes the dummy (its term stays known). */
  compact(index: number): void {
    const offset = this.offset();
    if (index <= offset) throw new RaftError("COMPACTED", `compact ${index}: already compacted through ${offset}`);
    assert(index <= this.lastIndex(), `compact ${index} is past the last index ${this.lastIndex()}`);
    const at = this.ents[index - offset];
    assert(at !== undefined, "compact: missing entry");
    const rest = this.ents.slice(index - offset + 1);
    this.ents = [{ term: at.term, index: at.index, type: EntryType.Normal, data: new Uint8Array(0) }, ...rest];
  }

  /**
   * Appends contiguous entries, truncating any stored suffix from entries[0].index on (a new
   * leader overwrote it). Entries already compacted away are skipped.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = (entries[entries.length - 1] as Entry).index;
    if (lastNew < first) return; // all compacted
    let ents = entries;
    const e0 = entries[0] as Entry;
    if (e0.index < first) ents = entries.slice(first - e0.index);
    const start = (ents[0] as Entry).index;
    const offset = this.offset();
    assert(start <= this.lastIndex() + 1, `append at ${start} leaves a gap after ${this.lastIndex()}`);
    this.ents.length = start - offset; // truncate the conflicting suffix (no-op when appending at the end)
    for (const e of ents) this.ents.push(e);
  }

  /** An independent copy (entries are immutable and shared). */
  clone(): MemoryStorage {
    const c = new MemoryStorage();
    c.hardState = { ...this.hardState };
    c.snap = this.snap;
    c.ents = this.ents.slice();
    c.appliedConf = this.appliedConf;
    return c;
  }

  private offset(): number {
    return (this.ents[0] as Entry).index;
  }
}
