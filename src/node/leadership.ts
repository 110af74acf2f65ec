// Where each shard's leader should be: at its preferred replica (shard.replicas[shardIndex % n],
// the rule the gateway also uses for its first guess), which spreads the leaders over the nodes.

import type { Logger } from "../base/logger.js";
import type { NodeId } from "../cluster/config.js";
import type { ReplicaId } from "../raft/index.js";
import type { Replica } from "./replica.js";

import { leaderBalanceIntervalTicks } from "./limits.js";
export { startupCampaignTicks } from "./limits.js";

/**
 * A fresh or restarted cluster: each shard's preferred replica stands for election early, so the
 * leaders spread over the nodes from the start. PreVote keeps this from disrupting a shard that
 * already has a leader.
 */
export function campaignWherePreferred(replicas: Iterable<Replica>): void {
  for (const r of replicas) if (r.preferredLeader === r.replicaId && r.leader === 0) r.raw.campaign();
}

/**
 * Hands leadership to each shard's preferred replica once it is caught up and has been heard
 * from recently (a transfer to a dead replica would block proposals until it times out).
 * Returns how many leaders here are away from their preferred replica and could not be moved
 * now: the caller checks again at its next tick rather than wait a whole interval, because
 * CheckQuorum clears the "heard from" flags every election timeout and a check can land just
 * after a clear.
 */
export function balanceLeaders(
  replicas: Iterable<Replica>,
  nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>,
  logger: Logger,
  nowTick: number,
): number {
  let waiting = 0;
  for (const r of replicas) {
    if (!r.isLeader || r.preferredLeader === r.replicaId) continue;
    // A leadership just taken (an election, or a transfer an operator asked for) is left alone
    // for one interval: no flapping, and an explicit transfer is visible before it is undone.
    if (nowTick - r.leaderSinceTick < leaderBalanceIntervalTicks) {
      waiting++;
      continue;
    }
    const st = r.raw.status();
    if (st.leadTransferee !== 0) continue;
    const pr = st.progress?.get(r.preferredLeader);
    if (pr === undefined || !pr.recentActive || pr.match < st.lastIndex) {
      waiting++;
      continue;
    }
    logger.info(
      { shard: r.shard.id, to: nodeOfReplica.get(r.preferredLeader) },
      "handing leadership to the preferred replica",
    );
    r.raw.transferLeadership(r.preferredLeader);
  }
  return waiting;
}

/**
 * A stopping node's step: each shard led here that is not already transferring goes to a
 * follower heard from recently, the preferred replica when it is as far along as any, else the
 * one furthest along (Raft sends it TimeoutNow once its log matches, after catching it up if
 * needed). Returns the shards whose transfer started. Only the node loop may call this.
 */
export function handLeadershipAway(
  replicas: Iterable<Replica>,
  nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>,
  logger: Logger,
): string[] {
  const started: string[] = [];
  for (const r of replicas) {
    if (!r.isLeader) continue;
    const st = r.raw.status();
    if (st.softState.role !== "leader" || st.leadTransferee !== 0 || st.progress === undefined) continue;
    let best: { id: ReplicaId; match: number } | undefined;
    for (const [id, pr] of st.progress) {
      if (id === r.replicaId || !pr.recentActive) continue;
      const better =
        best === undefined || pr.match > best.match || (pr.match === best.match && id === r.preferredLeader);
      if (better) best = { id, match: pr.match };
    }
    if (best === undefined) continue; // nobody heard from lately: look again at the next poll
    logger.info(
      {
        shard: r.shard.id,
        to: nodeOfReplica.get(best.id),
        caughtUp: best.match >= st.lastIndex,
        term: st.hardState.term,
      },
      "handing leadership over before stopping",
    );
    r.raw.transferLeadership(best.id);
    started.push(r.shard.id);
  }
  return started;
}
