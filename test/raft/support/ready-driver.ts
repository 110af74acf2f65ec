// The Ready contract (src/raft/types.ts), driven the same way by every Raft test harness:
// 1. persist the snapshot, entries and hard state; 2. send the messages; 3. apply the committed
// entries; 4. advance. Harnesses that check something between the steps call persistReady and
// do the rest themselves; the others call driveReady.

import type { MemoryStorage } from "../../../src/raft/memory-storage.js";
import type { RawNode } from "../../../src/raft/raw-node.js";
import type { Message, Ready } from "../../../src/raft/types.js";

/** Step 1: makes the Ready's state durable in `storage`. */
export function persistReady(storage: MemoryStorage, rd: Ready): void {
  if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
  if (rd.entries.length > 0) storage.append(rd.entries);
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
}

export interface ReadyHandlers {
  /** Step 2, after persisting: a message to deliver. */
  send(m: Message): void;
  /** Step 3: the Ready's snapshot (if any), committed entries and read states. */
  apply?(rd: Ready): void;
}

/** Takes the node's Ready, if it has one, and runs the whole contract on it; returns it. */
export function driveReady(node: RawNode, storage: MemoryStorage, handlers: ReadyHandlers): Ready | undefined {
  if (!node.hasReady()) return undefined;
  const rd = node.ready();
  persistReady(storage, rd);
  for (const m of rd.messages) handlers.send(m);
  handlers.apply?.(rd);
  node.advance(rd);
  return rd;
}
