// What the node loop tells the outside about its work (metrics). The loop calls these
// synchronously and must not wait on them, so implementations only count.

import type { ShardId } from "../cluster/config.js";

export interface NodeObserver {
  /** A replica's role, leader or term changed (an election, a step-down, a transfer). */
  roleChanged(shardId: ShardId, role: string, term: number, isLeader: boolean): void;
}

/** For a host nobody watches (tests, tools). */
export const nullNodeObserver: NodeObserver = {
  roleChanged: () => undefined,
};
