// The leader's sending side: appends (pipelined per the follower's progress state), snapshots
// when the follower needs compacted entries, heartbeats and TimeoutNow. "maybe" = guarded by
// flow control.

import { entriesPayloadBytes } from "./entry-size.js";
import { newMessage } from "./messages.js";
import type { RaftState } from "./raft-state.js";
import { MessageType, RaftError } from "./types.js";
import type { Entry, ReplicaId } from "./types.js";

/**
 * Sends `to` the entries after its `next` (at most maxAppendBytes), or a snapshot if those are
 * compacted. With `sendIfEmpty` an append without entries is still sent (it carries the commit
 * index). Returns whether a message was sent.
 */
export function maybeSendAppend(r: RaftState, to: ReplicaId, sendIfEmpty: boolean): boolean {
  const pr = r.prs.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  let prevTerm: number;
  let ents: Entry[];
  try {
    prevTerm = r.raftLog.term(prevIndex);
    ents = r.raftLog.entries(pr.next, r.maxAppendBytes);
  } catch (e) {
    if (e instanceof RaftError && e.code === "COMPACTED") return maybeSendSnapshot(r, to);
    throw e;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  const m = newMessage(MessageType.Append, r.id, to, r.term);
  m.index = prevIndex;
  m.logTerm = prevTerm;
  m.entries = ents;
  m.commit = r.raftLog.committed;
  const last = ents[ents.length - 1];
  pr.sentEntries(ents.length, last === undefined ? prevIndex : last.index, entriesPayloadBytes(ents));
  r.send(m);
  return true;
}

function maybeSendSnapshot(r: RaftState, to: ReplicaId): boolean {
  const pr = r.prs.get(to);
  if (pr === undefined) return false;
  // A snapshot is expensive: only send it to a follower that is answering.
  if (!pr.recentActive) {
    r.debug(`${r.id} not sending a snapshot to ${to}: not recently active`);
    return false;
  }
  const snap = r.raftLog.snapshot();
  if (snap.metadata.index === 0) {
    r.warn(`${r.id} needs to send a snapshot to ${to} but none is available yet`);
    return false;
  }
  pr.becomeSnapshot(snap.metadata.index);
  const m = newMessage(MessageType.Snapshot, r.id, to, r.term);
  m.snapshot = snap;
  r.send(m);
  r.info(
    `${r.id} sent snapshot ${snap.metadata.term}/${snap.metadata.index} to ${to} (first index ${r.raftLog.firstIndex()}, match ${pr.match})`,
  );
  return true;
}

/**
 * Sends every follower what it lacks; with `sendIfEmpty` (the default) followers that lack
 * nothing get an empty append carrying the commit index.
 */
export function bcastAppend(r: RaftState, sendIfEmpty = true): void {
  for (const id of r.replicationTargets) maybeSendAppend(r, id, sendIfEmpty);
}

export function sendHeartbeat(r: RaftState, to: ReplicaId, context: Uint8Array | undefined): void {
  const pr = r.prs.get(to);
  const m = newMessage(MessageType.Heartbeat, r.id, to, r.term);
  // Never more than the follower is known to have: it may not hold our committed entries yet,
  // and its commit index must not pass its (matching) log.
  m.commit = Math.min(pr?.match ?? 0, r.raftLog.committed);
  if (context !== undefined) m.context = context;
  r.send(m);
}

/**
 * Heartbeats to every follower. They carry the newest pending read context (if any): a quorum
 * of acks for it confirms this leader for every read up to it.
 */
export function bcastHeartbeat(r: RaftState, context: Uint8Array | undefined): void {
  const ctx = context ?? r.readOnly.lastPendingContext();
  for (const id of r.replicationTargets) sendHeartbeat(r, id, ctx);
}

export function sendTimeoutNow(r: RaftState, to: ReplicaId): void {
  r.info(`${r.id} sends TimeoutNow to ${to}: its log is up to date`);
  r.send(newMessage(MessageType.TimeoutNow, r.id, to, r.term));
}
