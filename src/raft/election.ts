// Elections: starting a (pre-)campaign, counting votes, answering vote requests, and the term
// rules every incoming message passes first (§5.1, §5.2, §5.4.1 of the paper; PreVote and the
// CheckQuorum lease of the Raft thesis §9.6).

import { describeMessage } from "./describe.js";
import { campaignTransferContext, isCampaignTransfer, newMessage, voteResponseType } from "./messages.js";
import type { VoteResult } from "./quorum.js";
import type { RaftState } from "./raft-state.js";
import { MessageType } from "./types.js";
import type { Message, ReplicaId } from "./types.js";

export type CampaignKind = "pre-election" | "election" | "transfer";

/** Starts an election (the election timeout fired, campaign() was called, or TimeoutNow). */
export function hup(r: RaftState, transfer: boolean): void {
  if (r.role === "leader") {
    r.debug(`${r.id} ignoring campaign: already leader`);
    return;
  }
  if (!r.promotable()) {
    r.warn(`${r.id} is not a voter and cannot campaign`);
    return;
  }
  // Votes are counted in our configuration: it must include every committed change, or two
  // configurations two changes apart could each elect a leader (conf-change.ts).
  if (r.hasUnappliedConfChange()) {
    if (transfer) {
      // A leader that removed itself hands over as soon as the removal commits, so its
      // TimeoutNow often arrives with that commit, before we applied it: campaign once we have.
      r.transferCampaignPending = true;
      r.info(`${r.id} will campaign for the leadership transfer once its committed conf change is applied`);
    } else r.warn(`${r.id} cannot campaign at term ${r.term}: a committed conf change is not applied yet`);
    return;
  }
  if (transfer) campaign(r, "transfer");
  else campaign(r, r.preVote ? "pre-election" : "election");
}

export function campaign(r: RaftState, kind: CampaignKind): void {
  // Every kind campaigns in (or, for PreVote, asks about) the term after ours. Past maxTerm no
  // peer would accept it: stay put rather than adopt a term nobody follows.
  if (!r.termGuard.mayCampaignIn(r.term + 1)) {
    r.warn(`${r.id} cannot campaign: term ${r.term + 1} would be above the maximum term ${r.termGuard.maxTerm}`);
    return;
  }
  let voteType: MessageType;
  let term: number;
  if (kind === "pre-election") {
    r.becomePreCandidate();
    voteType = MessageType.PreVote;
    term = r.term + 1; // the term we would campaign in; ours does not change yet
  } else {
    r.becomeCandidate();
    voteType = MessageType.Vote;
    term = r.term;
  }
  if (poll(r, r.id, voteResponseType(voteType), true) === "won") {
    // Single voter: won at once.
    if (kind === "pre-election") campaign(r, "election");
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.config.voters) {
    if (id === r.id) continue;
    const m = newMessage(voteType, r.id, id, term);
    m.index = lastIndex;
    m.logTerm = lastTerm;
    if (kind === "transfer") m.context = campaignTransferContext;
    r.info(`${r.id} [log=${lastTerm}/${lastIndex}] sent ${MessageType[voteType]} request to ${id} at term ${term}`);
    r.send(m);
  }
}

/** Records a vote (the first one from each voter counts) and returns the tally. */
export function poll(r: RaftState, id: ReplicaId, type: MessageType, granted: boolean): VoteResult {
  if (id !== r.id) {
    r.info(`${r.id} received ${MessageType[type]} ${granted ? "granted" : "rejected"} from ${id} at term ${r.term}`);
  }
  if (!r.votes.has(id)) r.votes.set(id, granted);
  return r.config.voteResult(r.votes);
}

/** A message from a newer term. Returns false when the message is to be dropped. */
export function stepHigherTerm(r: RaftState, m: Message): boolean {
  const isVote = m.type === MessageType.Vote || m.type === MessageType.PreVote;
  if (isVote && !isCampaignTransfer(m.context)) {
    // CheckQuorum lease: we heard from a leader within the election timeout, so a candidate
    // for a newer term is (likely) a partitioned replica rejoining: do not let it disrupt.
    const inLease = r.checkQuorum && r.lead !== 0 && r.electionElapsed < r.electionTimeout;
    if (inLease) {
      r.info(
        `${r.id} [log=${r.raftLog.lastTerm()}/${r.raftLog.lastIndex()}, vote=${r.vote}] ignored ` +
          `${MessageType[m.type]} from ${m.from} at term ${m.term}: lease is not expired ` +
          `(leader ${r.lead}, remaining ticks ${r.electionTimeout - r.electionElapsed})`,
      );
      return false;
    }
  }
  if (m.type === MessageType.PreVote) return true; // answering a pre-vote never changes our term
  if (m.type === MessageType.PreVoteResponse && !m.reject) return true; // m.term is the one we may campaign in
  r.info(`${r.id} received ${MessageType[m.type]} from ${m.from} at higher term ${m.term} (ours ${r.term})`);
  const fromLeader =
    m.type === MessageType.Append || m.type === MessageType.Heartbeat || m.type === MessageType.Snapshot;
  r.becomeFollower(m.term, fromLeader ? m.from : 0);
  return true;
}

/** A message from an older term: dropped, but some senders must learn our term. */
export function stepLowerTerm(r: RaftState, m: Message): void {
  if ((r.checkQuorum || r.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.Append)) {
    // A stale leader (e.g. it was partitioned away) would otherwise never learn the new term:
    // with PreVote our term is not forced up by its votes, and with CheckQuorum we ignore
    // them. This response carries our term and makes it step down.
    r.send(newMessage(MessageType.AppendResponse, r.id, m.from, r.term));
  } else if (m.type === MessageType.PreVote) {
    // Tell the pre-candidate our newer term, or it might keep pre-campaigning forever.
    const resp = newMessage(MessageType.PreVoteResponse, r.id, m.from, r.term);
    resp.reject = true;
    r.send(resp);
  } else {
    r.debug(`${r.id} ignored stale ${describeMessage(m)} at term ${r.term}`);
  }
}

export function handleVoteRequest(r: RaftState, m: Message): void {
  const respType = voteResponseType(m.type);
  // We can vote for the same candidate again (duplicate request), for anyone when we have not
  // voted and know no leader in this term, and pre-vote for any future term.
  const canVote =
    r.vote === m.from || (r.vote === 0 && r.lead === 0) || (m.type === MessageType.PreVote && m.term > r.term);
  const upToDate = r.raftLog.isUpToDate(m.index, m.logTerm);
  const us = `${r.id} [log=${r.raftLog.lastTerm()}/${r.raftLog.lastIndex()}, vote=${r.vote}]`;
  if (canVote && upToDate) {
    r.info(`${us} cast ${MessageType[m.type]} for ${m.from} [log=${m.logTerm}/${m.index}] at term ${m.term}`);
    // A granted vote is answered with the term of the request, so the candidate counts it.
    r.send(newMessage(respType, r.id, m.from, m.term));
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from; // persisted (HardState) before the response leaves
    }
  } else {
    const why = canVote ? "log not up to date" : `already voted for ${r.vote} or leader ${r.lead} known`;
    r.info(
      `${us} rejected ${MessageType[m.type]} from ${m.from} [log=${m.logTerm}/${m.index}] at term ${m.term}: ${why}`,
    );
    const resp = newMessage(respType, r.id, m.from, r.term);
    resp.reject = true;
    r.send(resp);
  }
}
