// What a leader knows about one follower's log, and the flow-control state machine that decides
// when to send it entries:
//  - probe: we do not know where its log matches ours; send one append per heartbeat interval
//    and back off on rejection;
//  - replicate: it matches; stream appends optimistically (pipelining) up to the inflight caps;
//  - snapshot: it needs entries we compacted; a snapshot is on its way, send nothing else.

import { assert } from "../base/assert.js";
import { Inflights } from "./inflights.js";
import type { ProgressState, ProgressStatus } from "./types.js";

export class Progress {
  /** Highest index known to match the leader's log. */
  match = 0;
  /** Next index to send. Invariant: match < next. */
  next: number;
  state: ProgressState = "probe";
  /** In snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current CheckQuorum window. */
  recentActive = false;
  /** Probe state: an append is out; wait for its answer or the next heartbeat response. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot: resume right after it.
    if (this.state === "snapshot") {
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to `n`. Returns whether match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected an append whose previous index was `rejected`; `matchHint` is where its
   * log may match (from fast backtracking). Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      // Stale: we already know it matches at or beyond the rejected index.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe: only the answer to the probe we sent (at next-1) counts.
    if (this.next - 1 !== rejected) return false;
    // A rejection at or below what the follower acknowledged: reordered behind its ack, or its
    // log lost acknowledged entries (a storage fault). Probing again at once would ping-pong
    // without end in the second case; the next heartbeat's answer probes again instead.
    if (rejected <= this.match) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    assert(this.next > this.match, "progress: next must stay above match");
    return true;
  }

  /** Records an append of `entries` entries (last one at `lastIndex`) with `bytes` of payload. */
  sentEntries(entries: number, lastIndex: number, bytes: number): void {
    switch (this.state) {
      case "replicate":
        if (entries > 0) {
          assert(lastIndex === this.next + entries - 1, "sentEntries: not contiguous with next");
          this.next = lastIndex + 1;
          this.inflights.add(lastIndex, bytes);
        }
        break;
      case "probe":
        // One probe at a time: its answer (or the next heartbeat response) unpauses.
        this.probeSent = true;
        break;
      case "snapshot":
        assert(false, "sentEntries in snapshot state");
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      inflight: this.inflights.count,
      recentActive: this.recentActive,
    };
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }
}
