// The replica's view of its log: what Storage holds (stable) followed by the unstable tail, plus
// the commit and applied indexes. Everything about indexes and terms goes through here, so the
// invariants live here: applied <= committed <= lastIndex, and committed entries are never
// truncated.

import { assert } from "../base/assert.js";
import { limitEntriesBytes } from "./entry-size.js";
import { RaftError } from "./types.js";
import type { Entry, Snapshot, Storage } from "./types.js";
import { Unstable } from "./unstable.js";

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be committed (stored on a quorum). */
  committed: number;
  /** Highest index the application has applied (acknowledged through advance()). */
  applied: number;

  constructor(storage: Storage) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the storage's snapshot is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry `index`. Throws RaftError COMPACTED / UNAVAILABLE outside [firstIndex-1, lastIndex]. */
  term(index: number): number {
    const dummy = this.firstIndex() - 1;
    if (index < dummy) throw new RaftError("COMPACTED", `index ${index} is compacted (first ${dummy + 1})`);
    if (index > this.lastIndex()) throw new RaftError("UNAVAILABLE", `index ${index} is past the last index`);
    const t = this.unstable.maybeTerm(index);
    return t !== undefined ? t : this.storageTerm(index);
  }

  /** Term of entry `index`, or 0 when it is compacted or beyond the log. */
  termOrZero(index: number): number {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return 0;
    return this.term(index);
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return false;
    return this.term(index) === term;
  }

  /** The election restriction (§5.4.1): is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The follower side of AppendEntries. If our entry at `index` has `logTerm`, appends `ents`
   * (truncating from the first conflict), commits up to min(committed, last new index) and
   * returns the last new index; otherwise returns -1 (reject).
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(
        conflict > this.committed,
        `entry ${conflict} conflicts with committed entry (committed ${this.committed})`,
      );
      const first = ents[0];
      assert(first !== undefined, "conflict without entries");
      this.append(conflict === first.index ? ents : ents.slice(conflict - first.index));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends contiguous entries (truncating anything after ents[0].index - 1); returns the last index. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    assert(
      first.index - 1 >= this.committed,
      `append at ${first.index} would truncate committed entries (committed ${this.committed})`,
    );
    assert(first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    const last = ents[ents.length - 1] as Entry;
    assert(
      last.index === first.index + ents.length - 1,
      `append of non-contiguous entries ${first.index}..${last.index}`,
    );
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry in `ents` whose term differs from ours (or that we lack), or 0 if
   * every entry is already present. Entries must be contiguous.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (and that term), for fast backtracking:
   * everything after it up to `index` has a term above `term`, so it cannot match a log whose
   * entry at `index` has term `term`. Skips a whole term per round trip instead of one entry.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    if (index > this.lastIndex()) return { index, term: 0 };
    const dummy = this.firstIndex() - 1;
    while (index >= dummy) {
      const t = this.term(index);
      if (t <= term) return { index, term: t };
      if (index === dummy) break;
      index--;
    }
    // Ran into the compacted prefix: its terms are unknown, so report the index with no term.
    return { index, term: 0 };
  }

  /** Unstable entries (not yet persisted). The array is live: copy before handing it out. */
  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** Committed entries not yet applied, at most about `maxBytes` of payload. */
  nextCommittedEntries(maxBytes: number): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    return this.slice(lo, this.committed + 1, maxBytes);
  }

  /** The newest snapshot: an incoming one not yet persisted, else the one in storage. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return; // commit never goes backwards
    assert(index <= this.lastIndex(), `commit ${index} is past the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Leader commit rule (§5.4.2): only an entry of the leader's own term is committed by counting. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(
      index <= this.committed && index >= this.applied,
      `applied ${index} out of range [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  /** The last index the driver has made durable: every entry after it is still unstable. */
  lastStableIndex(): number {
    if (this.unstable.entries.length > 0) return this.unstable.offset - 1;
    // An unstable snapshot replaces the whole log: nothing of this replica is durable beyond
    // what storage held before it, and none of that is part of the new log.
    if (this.unstable.snapshot !== undefined) return 0;
    return this.lastIndex();
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Entries from `index` to the end, at most about `maxBytes` of payload. */
  entries(index: number, maxBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi), at most about `maxBytes` (at least one). Throws COMPACTED below firstIndex. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo <= hi, `invalid slice [${lo}, ${hi})`);
    const first = this.firstIndex();
    if (lo < first) throw new RaftError("COMPACTED", `slice from ${lo} is compacted (first ${first})`);
    assert(hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) is past the last index ${this.lastIndex()}`);
    if (lo === hi) return [];
    const uOff = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < uOff) {
      ents = this.storage.entries(lo, Math.min(hi, uOff), maxBytes);
      // Storage stopped early because of the byte limit: the unstable part cannot follow.
      if (ents.length < Math.min(hi, uOff) - lo) return ents;
    }
    if (hi > uOff) {
      const tail = this.unstable.slice(Math.max(lo, uOff), hi);
      // Never push into the storage's array: it may be the storage's own.
      ents = ents.length === 0 ? tail : ents.concat(tail);
    }
    return limitEntriesBytes(ents, maxBytes);
  }

  /** Installs a snapshot received from the leader: the log becomes exactly the snapshot. */
  restore(snap: Snapshot): void {
    assert(
      snap.metadata.index > this.committed,
      `restore of snapshot ${snap.metadata.index} at or below commit ${this.committed}`,
    );
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }

  /** Term from storage; the entry just before firstIndex is the snapshot's. */
  private storageTerm(index: number): number {
    try {
      return this.storage.term(index);
    } catch (e) {
      if (e instanceof RaftError && e.code === "COMPACTED" && index === this.storage.firstIndex() - 1) {
        // Only the snapshot at exactly this index knows the term; any other would be a wrong
        // answer that could grant a vote to an out-of-date candidate.
        const meta = this.storage.snapshot().metadata;
        assert(meta.index === index, () => `storage compacted through ${index} but its snapshot is at ${meta.index}`);
        return meta.term;
      }
      throw e;
    }
  }
}
