// How a leader handles messages: append and heartbeat responses (flow control and commit),
// ReadIndex requests and leadership transfer.

import { newMessage } from "./messages.js";
import type { Progress } from "./progress.js";
import type { RaftState } from "./raft-state.js";
import { contextKey } from "./read-only.js";
import { bcastAppend, bcastHeartbeat, maybeSendAppend, sendTimeoutNow } from "./replication.js";
import { MessageType } from "./types.js";
import type { Message, ReplicaId } from "./types.js";

export function stepLeader(r: RaftState, m: Message): void {
  switch (m.type) {
    case MessageType.ReadIndex:
      leaderReadIndex(r, m);
      return;
    case MessageType.TransferLeader:
      leaderTransfer(r, m.index);
      return;
    case MessageType.AppendResponse:
    case MessageType.HeartbeatResponse: {
      const pr = r.prs.get(m.from);
      if (pr === undefined) {
        r.debug(`${r.id} no progress for ${m.from}`);
        return;
      }
      // Before anything of it is believed (recent activity included).
      const inconsistency = m.type === MessageType.AppendResponse ? appendResponseInconsistency(r, m) : undefined;
      if (inconsistency !== undefined) {
        r.refuse("inconsistent", m, inconsistency);
        return;
      }
      pr.recentActive = true;
      if (m.type === MessageType.AppendResponse) handleAppendResponse(r, pr, m);
      else handleHeartbeatResponse(r, pr, m);
      return;
    }
    case MessageType.Append:
    case MessageType.Heartbeat:
    case MessageType.Snapshot:
      // Two leaders in one term would break election safety: no honest peer sends this.
      r.refuse("inconsistent", m, `this replica leads term ${r.term}`);
      return;
    default:
      r.debug(`${r.id} leader ignores ${MessageType[m.type]} from ${m.from}`);
  }
}

/**
 * An answer to an append or snapshot of ours is about our log: every index it names (matched
 * or rejected) is one we sent, so none is past our last index. Believing one that is would set
 * a match the log cannot back, and the next append to that follower would fail to read it.
 */
function appendResponseInconsistency(r: RaftState, m: Message): string | undefined {
  const last = r.raftLog.lastIndex();
  if (m.index > last)
    return `it ${m.reject ? "rejects" : "acknowledges"} index ${m.index}, past this leader's last index ${last}`;
  return undefined;
}

function handleAppendResponse(r: RaftState, pr: Progress, m: Message): void {
  if (m.reject) {
    // Fast backtracking: the follower told us the last index whose term is <= the term of the
    // entry we probed (hint). Every index in our log after our own such index cannot match.
    let nextProbe = m.rejectHint;
    if (m.hintTerm > 0) nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.hintTerm).index;
    r.debug(
      `${r.id} append to ${m.from} rejected at ${m.index} (hint ${m.hintTerm}/${m.rejectHint}); probing from ${nextProbe + 1}`,
    );
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === "replicate") pr.becomeProbe();
      maybeSendAppend(r, m.from, true);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  // A probe answered at the index we already knew still proves the logs match.
  if (!pr.maybeUpdate(m.index) && !(pr.state === "probe" && pr.match === m.index)) return;
  switch (pr.state) {
    case "probe":
      pr.becomeReplicate();
      break;
    case "snapshot":
      // The follower can be caught up from the log now (the snapshot, or something newer, made it).
      if (pr.match + 1 >= r.raftLog.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      break;
    case "replicate":
      pr.inflights.freeLE(m.index);
      break;
  }
  if (r.maybeCommit()) {
    releasePendingReadIndex(r);
    bcastAppend(r); // tell everyone the new commit index
  } else if (oldPaused) {
    maybeSendAppend(r, m.from, true);
  }
  // Flow control may have opened more than one slot (probe -> replicate, several acks freed).
  while (maybeSendAppend(r, m.from, false)) {
    // keep sending until paused or caught up
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    sendTimeoutNow(r, m.from);
  }
}

function handleHeartbeatResponse(r: RaftState, pr: Progress, m: Message): void {
  pr.probeSent = false;
  // Appends may all have been lost: free one slot so a new append can reveal the gap (the
  // follower rejects it and we fall back to probing).
  if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirst();
  // A lagging follower gets entries; a caught-up one still in probe (e.g. after
  // reportUnreachable) gets an empty append so that its answer moves it back to replicate.
  if (pr.match < r.raftLog.lastIndex() || pr.state === "probe") maybeSendAppend(r, m.from, true);

  if (m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined || r.config.voteResult(acks) !== "won") return;
  for (const read of r.readOnly.advance(m.context)) {
    respondToRead(r, read.from, read.index, read.context);
  }
}

function leaderReadIndex(r: RaftState, m: Message): void {
  const key = contextKey(m.context);
  if (r.pendingReadKeys.has(key) || r.readOnly.has(m.context)) {
    r.warn(`${r.id} ignoring ReadIndex from ${m.from}: context already pending`);
    return;
  }
  if (!r.committedEntryInCurrentTerm()) {
    // Our commit index may lag the true one until an entry of our term commits: queue.
    r.pendingReadIndex.push(m);
    r.pendingReadKeys.add(key);
    r.debug(`${r.id} queued ReadIndex from ${m.from}: no entry of term ${r.term} committed yet`);
    return;
  }
  sendReadIndexResponse(r, m);
}

function sendReadIndexResponse(r: RaftState, m: Message): void {
  const index = r.raftLog.committed;
  if (r.isSingleVoter()) {
    respondToRead(r, m.from, index, m.context);
    return;
  }
  r.readOnly.addRequest(index, m.from, m.context);
  r.readOnly.recvAck(r.id, m.context);
  bcastHeartbeat(r, m.context);
}

/** Releases the reads queued before the first commit of this term. */
export function releasePendingReadIndex(r: RaftState): void {
  if (r.pendingReadIndex.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const queued = r.pendingReadIndex;
  r.pendingReadIndex = [];
  r.pendingReadKeys.clear();
  for (const m of queued) sendReadIndexResponse(r, m);
}

function respondToRead(r: RaftState, from: ReplicaId, index: number, context: Uint8Array): void {
  if (from === r.id) {
    r.readStates.push({ index, context });
    return;
  }
  const resp = newMessage(MessageType.ReadIndexResponse, r.id, from, r.term);
  resp.index = index;
  resp.context = context;
  r.send(resp);
}

function leaderTransfer(r: RaftState, transferee: ReplicaId): void {
  if (!r.config.has(transferee)) {
    r.info(`${r.id} ignoring leadership transfer to ${transferee}: not a voter`);
    return;
  }
  if (r.leadTransferee !== 0) {
    if (r.leadTransferee === transferee) {
      r.info(`${r.id} leadership transfer to ${transferee} already in progress`);
      return;
    }
    r.abortLeaderTransfer(`superseded by a transfer to ${transferee}`);
  }
  if (transferee === r.id) {
    r.info(`${r.id} is already leader; ignoring transfer to itself`);
    return;
  }
  r.info(`${r.id} starts leadership transfer to ${transferee} at term ${r.term}`);
  // The transfer must finish within an election timeout (tickHeartbeat aborts it after that).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  const pr = r.prs.get(transferee);
  if (pr !== undefined && pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, transferee);
  else maybeSendAppend(r, transferee, true);
}
