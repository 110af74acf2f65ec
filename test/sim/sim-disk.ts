// A replica's disk. Writes form one ordered stream (as through the node's one LevelDB writer).
// A synced write makes itself and everything before it durable; unsynced writes sit in the page
// cache until a later sync or a background write-back. A crash keeps the durable image plus
// some prefix of the unsynced writes (the OS may have flushed part of them, in order) and drops
// the rest, which is exactly what the persistence contract must survive.

import type { Entry, HardState, Snapshot } from "../../src/raft/types.js";
import { hashSeed } from "./hash.js";
import type { AppState } from "./payload.js";

export type WriteOp =
  /** One Ready's snapshot, entries and hard state, in one batch; a snapshot brings its app state. */
  | {
      kind: "raft";
      snapshot: Snapshot | undefined;
      entries: Entry[];
      hardState: HardState | undefined;
      app: AppState | undefined;
    }
  /** The application state after applying committed entries (written unsynced, as the design allows). */
  | { kind: "app"; app: AppState }
  /** The application took a snapshot and compacted the log behind it. */
  | { kind: "snapshot"; snapshot: Snapshot };

/** What survives on disk: everything a restarting replica loads. */
export interface DiskImage {
  snapshot: Snapshot | undefined;
  /** The log after the snapshot, contiguous. */
  entries: Entry[];
  hardState: HardState;
  app: AppState;
}

export function emptyImage(): DiskImage {
  return {
    snapshot: undefined,
    entries: [],
    hardState: { term: 0, vote: 0, commit: 0 },
    app: { applied: 0, hash: hashSeed },
  };
}

export class SimDisk {
  readonly image: DiskImage = emptyImage();
  private pending: WriteOp[] = [];

  write(op: WriteOp, sync: boolean): void {
    if (!sync) {
      this.pending.push(op);
      return;
    }
    this.writeBack(this.pending.length);
    applyOp(this.image, op);
  }

  /** The OS flushes the oldest `count` unsynced writes. */
  writeBack(count: number): void {
    const n = Math.min(count, this.pending.length);
    for (let i = 0; i < n; i++) applyOp(this.image, this.pending[i]!);
    this.pending = n === this.pending.length ? [] : this.pending.slice(n);
  }

  get unsyncedCount(): number {
    return this.pending.length;
  }

  /** Power loss: the first `kept` unsynced writes reached the disk, the rest are gone. */
  crash(kept: number): void {
    this.writeBack(kept);
    this.pending = [];
  }
}

function applyOp(image: DiskImage, op: WriteOp): void {
  switch (op.kind) {
    case "raft":
      if (op.snapshot !== undefined) {
        image.snapshot = op.snapshot;
        image.entries = [];
      }
      if (op.app !== undefined) image.app = op.app;
      if (op.entries.length > 0) appendEntries(image, op.entries);
      if (op.hardState !== undefined) image.hardState = op.hardState;
      return;
    case "app":
      image.app = op.app;
      return;
    case "snapshot": {
      const at = op.snapshot.metadata.index;
      if (image.snapshot !== undefined && image.snapshot.metadata.index >= at) return;
      image.snapshot = op.snapshot;
      const keepFrom = image.entries.findIndex((e) => e.index > at);
      image.entries = keepFrom < 0 ? [] : image.entries.slice(keepFrom);
      return;
    }
  }
}

/** Appends, replacing any conflicting suffix; entries already inside the snapshot are skipped. */
function appendEntries(image: DiskImage, entries: readonly Entry[]): void {
  const base = (image.snapshot?.metadata.index ?? 0) + 1;
  for (const e of entries) {
    if (e.index < base) continue;
    const at = e.index - base;
    if (at > image.entries.length)
      throw new Error(`disk: entry ${e.index} leaves a gap after ${base + image.entries.length - 1}`);
    if (at < image.entries.length) image.entries.length = at;
    image.entries.push(e);
  }
}
