// Converts between the Raft core's plain types (numbers) and the raft.v1 wire messages (bigint
// uint64s). Encoding trusts its input (it comes from our own core). Decoding trusts nothing: a
// peer's message must not reach the core unless every field is one the core can hold, so each
// failure is a LedgerError("INVALID_ARGUMENT") naming the field by its path.
//
// Hot path: objects are built as literals (no create() reflection) and bytes are not copied.
// Decoded entry data stays a view into the received buffer: the follower keeps those entries
// anyway, and they are most of that buffer. Only the small `context` is copied, because a
// ReadIndex context can outlive its batch by far (pending reads) and would pin all of it.
// Views come back as plain Uint8Arrays, never as Buffers (grpc-js hands us a Buffer, and
// Buffer#slice does not copy, unlike Uint8Array#slice that the core may rely on).

import { raftEntriesPerMessageMax } from "./limits.js";
import { LedgerError } from "../base/errors.js";
import * as pb from "../gen/raft/v1/raft_pb.js";
import { EntryType, MessageType } from "../raft/index.js";
import type { ConfState, Entry, HardState, Message, Snapshot, SnapshotMetadata } from "../raft/index.js";

const safeMax = BigInt(Number.MAX_SAFE_INTEGER);
const emptyBytes = new Uint8Array(0);

// ---- encode ----------------------------------------------------------------------------------

export function entryToProto(e: Entry): pb.Entry {
  return {
    $typeName: "raft.v1.Entry",
    term: BigInt(e.term),
    index: BigInt(e.index),
    type: e.type as number as pb.EntryType,
    data: e.data,
  };
}

export function hardStateToProto(hs: HardState): pb.HardState {
  return { $typeName: "raft.v1.HardState", term: BigInt(hs.term), vote: BigInt(hs.vote), commit: BigInt(hs.commit) };
}

export function confStateToProto(cs: ConfState): pb.ConfState {
  return { $typeName: "raft.v1.ConfState", voters: cs.voters.map(BigInt), learners: cs.learners.map(BigInt) };
}

export function snapshotMetadataToProto(md: SnapshotMetadata): pb.SnapshotMetadata {
  return {
    $typeName: "raft.v1.SnapshotMetadata",
    index: BigInt(md.index),
    term: BigInt(md.term),
    confState: confStateToProto(md.confState),
  };
}

export function snapshotToProto(s: Snapshot): pb.Snapshot {
  return { $typeName: "raft.v1.Snapshot", metadata: snapshotMetadataToProto(s.metadata), data: s.data };
}

export function messageToProto(m: Message): pb.Message {
  const entries: pb.Entry[] = new Array<pb.Entry>(m.entries.length);
  for (let i = 0; i < m.entries.length; i++) entries[i] = entryToProto(m.entries[i]!);
  return {
    $typeName: "raft.v1.Message",
    type: m.type as number as pb.MessageType,
    to: BigInt(m.to),
    from: BigInt(m.from),
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries,
    commit: BigInt(m.commit),
    snapshot: m.snapshot === undefined ? undefined : snapshotToProto(m.snapshot),
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    hintTerm: BigInt(m.hintTerm),
    context: m.context,
  };
}

// ---- decode ----------------------------------------------------------------------------------

function invalid(path: string, field: string, why: string): LedgerError {
  return new LedgerError("INVALID_ARGUMENT", `${path}.${field} ${why}`, { field: `${path}.${field}` });
}

/** A uint64 as a JS number, or a LedgerError naming the field when it does not fit. */
function u64(v: bigint, path: string, field: string): number {
  if (v > safeMax) throw invalid(path, field, `is ${v}, above 2^53-1 (Number.MAX_SAFE_INTEGER)`);
  return Number(v);
}

function replicaId(v: bigint, path: string, field: string): number {
  if (v === 0n) throw invalid(path, field, "must be a replica id (positive), got 0");
  return u64(v, path, field);
}

function entryType(t: pb.EntryType, path: string): EntryType {
  if (t === pb.EntryType.NORMAL) return EntryType.Normal;
  if (t === pb.EntryType.CONF_CHANGE) return EntryType.ConfChange;
  throw invalid(path, "type", `is not a known EntryType: ${t}`);
}

function isKnownMessageType(t: number): t is MessageType {
  return Number.isInteger(t) && t >= MessageType.Append && t <= MessageType.TransferLeader;
}

/** The same bytes as a plain Uint8Array (no copy). */
function plainView(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A copy that owns its memory. */
function ownedCopy(b: Uint8Array): Uint8Array {
  return b.length === 0 ? emptyBytes : new Uint8Array(b);
}

export function entryFromProto(p: pb.Entry, path: string): Entry {
  return {
    term: u64(p.term, path, "term"),
    index: u64(p.index, path, "index"),
    type: entryType(p.type, path),
    data: plainView(p.data),
  };
}

export function hardStateFromProto(p: pb.HardState, path: string): HardState {
  return { term: u64(p.term, path, "term"), vote: u64(p.vote, path, "vote"), commit: u64(p.commit, path, "commit") };
}

function replicaIds(ids: bigint[], path: string, field: string): number[] {
  const out = new Array<number>(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = replicaId(ids[i]!, path, `${field}[${i}]`);
  return out;
}

export function confStateFromProto(p: pb.ConfState, path: string): ConfState {
  return { voters: replicaIds(p.voters, path, "voters"), learners: replicaIds(p.learners, path, "learners") };
}

export function snapshotMetadataFromProto(p: pb.SnapshotMetadata, path: string): SnapshotMetadata {
  if (p.confState === undefined) throw invalid(path, "conf_state", "is missing");
  return {
    index: u64(p.index, path, "index"),
    term: u64(p.term, path, "term"),
    confState: confStateFromProto(p.confState, `${path}.conf_state`),
  };
}

export function snapshotFromProto(p: pb.Snapshot, path: string): Snapshot {
  if (p.metadata === undefined) throw invalid(path, "metadata", "is missing");
  return { metadata: snapshotMetadataFromProto(p.metadata, `${path}.metadata`), data: plainView(p.data) };
}

/** Only an Append carries entries: one contiguous run after `index`, at most a bounded number. */
function appendEntriesFromProto(p: pb.Message, type: MessageType, path: string, appendAfter: number): Entry[] {
  if (type !== MessageType.Append) throw invalid(path, "entries", `must be empty on a ${MessageType[type]} message`);
  if (p.entries.length > raftEntriesPerMessageMax)
    throw invalid(path, "entries", `has ${p.entries.length} entries, more than ${raftEntriesPerMessageMax}`);
  const out = new Array<Entry>(p.entries.length);
  for (let i = 0; i < p.entries.length; i++) {
    const e = entryFromProto(p.entries[i]!, `${path}.entries[${i}]`);
    // The core appends these as one contiguous run after `index`; a gap would break its log.
    if (e.index !== appendAfter + 1 + i) {
      throw invalid(
        `${path}.entries[${i}]`,
        "index",
        `is ${e.index}, expected ${appendAfter + 1 + i} (entries must follow index consecutively)`,
      );
    }
    out[i] = e;
  }
  return out;
}

/** Validates and converts a peer's message; throws LedgerError("INVALID_ARGUMENT") naming the field. */
export function messageFromProto(p: pb.Message, path: string): Message {
  const type = p.type as number;
  if (!isKnownMessageType(type)) throw invalid(path, "type", `is not a known MessageType: ${type}`);
  if (type === MessageType.Snapshot && p.snapshot === undefined)
    throw invalid(path, "snapshot", "is missing on a SNAPSHOT message");
  const index = u64(p.index, path, "index");
  return {
    type,
    to: replicaId(p.to, path, "to"),
    from: replicaId(p.from, path, "from"),
    term: u64(p.term, path, "term"),
    logTerm: u64(p.logTerm, path, "log_term"),
    index,
    entries: p.entries.length === 0 ? [] : appendEntriesFromProto(p, type, path, index),
    commit: u64(p.commit, path, "commit"),
    snapshot: p.snapshot === undefined ? undefined : snapshotFromProto(p.snapshot, `${path}.snapshot`),
    reject: p.reject,
    rejectHint: u64(p.rejectHint, path, "reject_hint"),
    hintTerm: u64(p.hintTerm, path, "hint_term"),
    // Copied: see the header comment.
    context: ownedCopy(p.context),
  };
}
