// Where each shard's leader should be: at its preferred replica (shard.replicas[shardIndex % n],
// the rule the gateway also uses for its first guess), which spreads the leaders over the nodes.

import type { Logger } from "../base/logger.js";
import type { NodeId } from "../cluster/config.js";
import type { ReplicaId } from "../raft/types.js";
import type { Replica } from "./replica.js";

import { leaderBalanceIntervalTicks } from "../base/limits.js";
export { startupCampaignTicks } from "../base/limits.js";

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
export function balanceLeaders(replicas: Iterable<Replica>, nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>, logger: Logger, nowTick: number): number {
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
    logger.info({ shard: r.shard.id, to: nodeOfReplica.get(r.preferredLeader) }, "handing leadership to the preferred replica");
    r.raw.transferLeadership(r.preferredLeader);
  }
  return waiting;
}
