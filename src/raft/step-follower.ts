// How followers and (pre-)candidates handle messages: the receiving side of AppendEntries,
// heartbeats and snapshots, vote counting, TimeoutNow, and forwarding requests to the leader.

import { campaign, hup, poll } from "./election.js";
import { newMessage } from "./messages.js";
import { bcastAppend } from "./replication.js";
import type { RaftState } from "./raft-state.js";
import { MessageType } from "./types.js";
import type { Message, Snapshot } from "./types.js";

/** Any leader message restarts the election timer and names the leader. */
function heardFromLeader(r: RaftState, m: Message): void {
  r.electionElapsed = 0;
  r.lead = m.from;
}

/** Message types only the leader of a term sends. */
function fromLeader(m: Message): boolean {
  return m.type === MessageType.Append || m.type === MessageType.Heartbeat || m.type === MessageType.Snapshot;
}

export function stepFollower(r: RaftState, m: Message): void {
  // A term has one leader: once we know it, another replica claiming to lead the same term is
  // broken or forged (it would move our leader hint and commit index).
  if (fromLeader(m) && r.lead !== 0 && m.from !== r.lead) {
    r.refuse("inconsistent", m, `replica ${r.lead} leads term ${r.term}`);
    return;
  }
  switch (m.type) {
    case MessageType.Append:
      heardFromLeader(r, m);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snapshot:
      heardFromLeader(r, m);
      handleSnapshot(r, m);
      return;
    case MessageType.TimeoutNow:
      // Only our leader may hand over (it caught us up first): from anyone else this would be a
      // disruptive election that skips PreVote and the CheckQuorum lease.
      if (m.from !== r.lead) {
        r.refuse("inconsistent", m, `TimeoutNow must come from our leader (${r.lead})`);
        return;
      }
      // The leader caught us up and asks us to take over: campaign now, skipping PreVote.
      r.info(`${r.id} received TimeoutNow from ${m.from} at term ${r.term}; campaigning for leadership transfer`);
      hup(r, true);
      return;
    case MessageType.ReadIndex:
    case MessageType.TransferLeader: {
      if (r.lead === 0) {
        r.info(`${r.id} no leader at term ${r.term}; dropping ${MessageType[m.type]}`);
        return;
      }
      if (m.from !== r.id) {
        // Forward only our own requests: a request that already took one hop and found no
        // leader is dropped (its origin retries) instead of wandering between replicas.
        r.info(`${r.id} is not the leader; dropping ${MessageType[m.type]} forwarded by ${m.from}`);
        return;
      }
      // Forwarded without a term: the leader answers whatever its term is now.
      const fwd = newMessage(m.type, r.id, r.lead, 0);
      fwd.index = m.index;
      fwd.context = m.context;
      r.send(fwd);
      return;
    }
    case MessageType.ReadIndexResponse:
      // We forward reads only to our leader, and a leader change comes with a new term. (A
      // leader unknown here is no proof: its answer may come with the term that taught us of
      // a new election, before its first heartbeat names it.)
      if (r.lead !== 0 && m.from !== r.lead) {
        r.refuse("inconsistent", m, `a read point must come from our leader (${r.lead})`);
        return;
      }
      r.readStates.push({ index: m.index, context: m.context });
      return;
    default:
      r.debug(`${r.id} follower ignores ${MessageType[m.type]} from ${m.from}`);
  }
}

export function stepCandidate(r: RaftState, m: Message): void {
  const myResponse = r.role === "pre-candidate" ? MessageType.PreVoteResponse : MessageType.VoteResponse;
  switch (m.type) {
    // A leader exists for this term (same term as ours, or the term check already moved us).
    case MessageType.Append:
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snapshot:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myResponse: {
      const result = poll(r, m.from, m.type, !m.reject);
      if (result === "won") {
        if (r.role === "pre-candidate") {
          campaign(r, "election"); // a won pre-election proceeds to the real one
        } else {
          r.becomeLeader();
          // The new leader's empty entry goes to everyone at once: it is also the probe that
          // finds where each follower's log matches ours.
          bcastAppend(r);
        }
      } else if (result === "lost") {
        // Pre-candidates keep their term; candidates stay in theirs (with their own vote).
        r.becomeFollower(r.term, 0);
      }
      return;
    }
    case MessageType.TimeoutNow:
      r.debug(`${r.id} ignored TimeoutNow from ${m.from}: not a follower`);
      return;
    case MessageType.ReadIndex:
    case MessageType.TransferLeader:
      r.info(`${r.id} no leader at term ${r.term}; dropping ${MessageType[m.type]}`);
      return;
    default:
      r.debug(`${r.id} ${r.role} ignores ${MessageType[m.type]} from ${m.from}`);
  }
}

function handleAppendEntries(r: RaftState, m: Message): void {
  const resp = newMessage(MessageType.AppendResponse, r.id, m.from, r.term);
  if (m.index < r.raftLog.committed) {
    // Everything up to our commit index is already settled: tell the leader where we are.
    resp.index = r.raftLog.committed;
    r.send(resp);
    return;
  }
  const lastNew = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew >= 0) {
    resp.index = lastNew;
    r.send(resp);
    return;
  }
  // Reject with a hint: our last index whose term is <= the probed entry's term. The leader
  // skips every index after its own such index in one round trip (a whole term at a time).
  const hint = r.raftLog.findConflictByTerm(Math.min(m.index, r.raftLog.lastIndex()), m.logTerm);
  r.debug(
    `${r.id} [log=${r.raftLog.lastTerm()}/${r.raftLog.lastIndex()}] rejected append at ${m.logTerm}/${m.index} from ${m.from}; hint ${hint.term}/${hint.index}`,
  );
  resp.index = m.index;
  resp.reject = true;
  resp.rejectHint = hint.index;
  resp.hintTerm = hint.term;
  r.send(resp);
}

function handleHeartbeat(r: RaftState, m: Message): void {
  // A leader sends at most what this follower has acknowledged (min(match, commit)), so a commit
  // past our last index comes from a broken or forged peer: ignore the message rather than let
  // a peer trip the log's invariant and stop the whole node.
  if (m.commit > r.raftLog.lastIndex()) {
    r.refuse("inconsistent", m, `its commit ${m.commit} is past our last index ${r.raftLog.lastIndex()}`);
    return;
  }
  r.raftLog.commitTo(m.commit);
  const resp = newMessage(MessageType.HeartbeatResponse, r.id, m.from, r.term);
  resp.context = m.context;
  r.send(resp);
}

function handleSnapshot(r: RaftState, m: Message): void {
  const snap = m.snapshot;
  const resp = newMessage(MessageType.AppendResponse, r.id, m.from, r.term);
  if (snap === undefined) {
    r.refuse("inconsistent", m, "it carries no snapshot");
    return;
  }
  const inconsistency = snapshotInconsistency(r, snap);
  if (inconsistency !== undefined) {
    r.refuse("inconsistent", m, inconsistency);
    return;
  }
  const { index, term } = snap.metadata;
  if (restore(r, snap)) {
    r.info(`${r.id} restored snapshot ${term}/${index} from ${m.from}`);
    resp.index = r.raftLog.lastIndex();
  } else {
    r.info(`${r.id} ignored snapshot ${term}/${index} from ${m.from} (commit ${r.raftLog.committed})`);
    resp.index = r.raftLog.committed;
  }
  r.send(resp);
}

/**
 * Why `snap` contradicts what this replica knows for certain: its committed log and its voters.
 * Only committed entries are certain: an uncommitted entry at the snapshot's index may rightly
 * differ (a deposed leader's), and the snapshot then replaces it. Everything after our commit
 * index has a term at least that of our committed entry (terms never decrease along a log).
 */
function snapshotInconsistency(r: RaftState, snap: Snapshot): string | undefined {
  const { index, term, confState } = snap.metadata;
  const log = r.raftLog;
  const committedTerm = log.termOrZero(log.committed);
  if (index <= log.committed) {
    const ours = log.termOrZero(index);
    if (ours !== 0 && ours !== term)
      return `its snapshot ${term}/${index} contradicts our committed entry of term ${ours}`;
  } else if (term < committedTerm) {
    return `its snapshot ${term}/${index} is past our commit index ${log.committed} but of an older term than our committed ${committedTerm}`;
  }
  // The snapshot's membership may differ from ours, even leave us out: a replica joining as a
  // learner is caught up from a snapshot taken before the change that added it, and the
  // entries after the snapshot then add it (a replica outside the membership never
  // campaigns). Only a membership no honest leader could hold is refused. An empty voter
  // list keeps ours.
  const { voters, learners } = confState;
  if (voters.length > 0) {
    const all = [...voters, ...learners];
    if (all.some((id) => !Number.isSafeInteger(id) || id <= 0))
      return `its snapshot's membership (voters ${voters.join(" ")}; learners ${learners.join(" ") || "none"}) names an invalid replica id`;
    if (new Set(all).size !== all.length)
      return `its snapshot's membership (voters ${voters.join(" ")}; learners ${learners.join(" ") || "none"}) names a replica twice`;
  }
  return undefined;
}

/** Installs `snap` unless our log already covers it. Returns whether the log was replaced. */
function restore(r: RaftState, snap: Snapshot): boolean {
  const { index, term, confState } = snap.metadata;
  if (index <= r.raftLog.committed) return false;
  if (r.raftLog.matchTerm(index, term)) {
    // We already hold the snapshot's last entry: the snapshot only tells us it is committed.
    r.raftLog.commitTo(index);
    return false;
  }
  r.raftLog.restore(snap);
  if (confState.voters.length > 0) r.setConfState(confState);
  return true;
}
