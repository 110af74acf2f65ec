// The tail of the log that the driver has not yet persisted: entries (and possibly an incoming
// snapshot) handed out in a Ready but not yet confirmed by advance(). Once stable they live only
// in Storage. Entries are immutable once created; arrays are copied when handed out.

import { assert } from "../base/assert.js";
import type { Entry, Snapshot } from "./types.js";

export class Unstable {
  /** An incoming snapshot not yet persisted; it precedes every unstable entry. */
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  /** Index of entries[0] (or where the next entry goes when there are none). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** First index known from an unstable snapshot, if any. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      const snap = this.snapshot;
      return snap !== undefined && snap.metadata.index === index ? snap.metadata.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]?.term;
  }

  /**
   * Entries up to `index` (with `term`) are durable. Ignored when the entry there has since been
   * replaced (different term): the persisted copy was overwritten in memory and must be written
   * again by a later Ready.
   */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    if (t === undefined || t !== term || index < this.offset) return;
    this.entries.splice(0, index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) {
      this.snapshot = undefined;
    }
  }

  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1;
    this.entries = [];
    this.snapshot = snap;
  }

  /** Appends `ents` (contiguous), first truncating any unstable entries at or after ents[0]. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replaces the whole unstable tail (and possibly part of what storage holds; the driver
      // truncates its suffix when it persists these).
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries.length = after - this.offset;
      for (const e of ents) this.entries.push(e);
    }
  }

  /** Entries in [lo, hi); both must lie within the unstable range. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo <= hi, `unstable.slice: invalid range [${lo}, ${hi})`);
    const upper = this.offset + this.entries.length;
    assert(lo >= this.offset && hi <= upper, `unstable.slice [${lo}, ${hi}) outside [${this.offset}, ${upper})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
