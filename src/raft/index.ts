// The Raft core's surface for the rest of the system: RawNode and the plain types of its inputs
// and outputs (what a driver persists, sends and applies). Everything else in src/raft is its
// inside; only the core's own tests reach past this file.

export { RawNode } from "./raw-node.js";
export {
  ConfChangeType,
  applyConfChangeTo,
  confChangeRefusal,
  decodeConfChange,
  encodeConfChange,
} from "./conf-change.js";
export type { ConfChange } from "./conf-change.js";
export { limitEntriesBytes } from "./entry-size.js";
export { EntryType, MessageType, RaftError } from "./types.js";
export type {
  ConfState,
  Entry,
  HardState,
  Message,
  RaftConfig,
  ReadState,
  Ready,
  ReplicaId,
  Role,
  Snapshot,
  SnapshotMetadata,
  Storage,
} from "./types.js";
// The core's bounds: the defaults of its config fields.
export { committedEntriesBytesPerReadyMax, raftTermJumpMax, raftTermMax } from "./limits.js";
