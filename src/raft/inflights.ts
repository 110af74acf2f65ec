// The appends a leader has sent to one follower in replicate state and not yet seen
// acknowledged: a ring of (last index, payload bytes). Flow control stops sending when either
// the count or the byte cap is reached, so a slow follower cannot make the leader buffer
// unbounded messages.

import { assert } from "../base/assert.js";

export class Inflights {
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  /** Number of appends in flight. */
  count = 0;
  /** Payload bytes in flight. */
  bytes = 0;

  constructor(
    readonly capacity: number,
    /** 0 = no byte cap. */
    readonly maxBytes: number,
  ) {
    assert(capacity > 0, "inflights capacity must be positive");
    this.indexes = new Array<number>(capacity).fill(0);
    this.sizes = new Array<number>(capacity).fill(0);
  }

  /** Records an append whose last entry is `index`; indexes must increase. */
  add(index: number, bytes: number): void {
    assert(!this.full(), "inflights: add while full");
    if (this.count > 0) {
      const lastSlot = (this.start + this.count - 1) % this.capacity;
      assert(index > (this.indexes[lastSlot] ?? 0), `inflights: index ${index} not increasing`);
    }
    const slot = (this.start + this.count) % this.capacity;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every append whose last index is <= `index` (the follower acknowledged up to it). */
  freeLE(index: number): void {
    while (this.count > 0) {
      const idx = this.indexes[this.start] ?? 0;
      if (idx > index) break;
      this.bytes -= this.sizes[this.start] ?? 0;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest append (its acknowledgement was probably lost). */
  freeFirst(): void {
    if (this.count > 0) this.freeLE(this.indexes[this.start] ?? 0);
  }

  full(): boolean {
    return this.count === this.capacity || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
    this.bytes = 0;
  }
}
