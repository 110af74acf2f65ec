// What the node loop tells the outside about its work (metrics). The loop calls these
// synchronously and must not wait on them, so implementations only count: no I/O, no DB reads,
// nothing that throws.

import type { ShardId } from "../cluster/config.js";
import type { Ready } from "../raft/index.js";
import type { Replica } from "./replica.js";

export interface NodeObserver {
  /** A replica's role, leader or term changed (an election, a step-down, a transfer). */
  roleChanged(shardId: ShardId, role: string, term: number, isLeader: boolean): void;
  /**
   * At the start of a loop turn: what waited for it. Peer messages and their approximate bytes in
   * the inbox, proposals queued since the last turn, proposals proposed and not yet answered,
   * and jobs in the DB writer's queue.
   */
  turnStarted(
    inboxMessages: number,
    inboxBytes: number,
    queuedProposals: number,
    proposalsInFlight: number,
    writerJobs: number,
  ): void;
  /**
   * After a turn's batch was written: the Readies it held, whether the write was synced (an
   * fsync), the milliseconds spent persisting and applying the Readies into the batch, and the
   * milliseconds of the write itself (0 when nothing was written). Called before the Readies
   * are advanced, so their fields are intact.
   */
  turnWritten(readies: readonly (readonly [Replica, Ready])[], synced: boolean, applyMs: number, writeMs: number): void;
  /** A proposal was applied and its proposer answered. A property, not a method: the loop passes
   * it as a promise callback without binding it. */
  readonly proposalApplied: () => void;
  /** A proposal's proposer got `error` (refused, failed, or outcome unknown). Passed unbound too. */
  readonly proposalFailed: (error: unknown) => void;
}

const ignore = (): void => undefined;

/** For a host nobody watches (tests, tools). */
export const nullNodeObserver: NodeObserver = {
  roleChanged: ignore,
  turnStarted: ignore,
  turnWritten: ignore,
  proposalApplied: ignore,
  proposalFailed: ignore,
};
