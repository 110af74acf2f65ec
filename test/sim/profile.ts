// Each seed draws its own "weather": how often faults strike and how the client behaves, so the
// runs together cover calm and violent histories alike. The Raft tuning is small on purpose:
// tiny append and uncommitted budgets exercise flow control and backpressure at low cost.

import { raftTermJumpMax, raftTermMax } from "../../src/raft/limits.js";
import type { Prng } from "../../src/base/prng.js";
import type { RaftTuning } from "./replica.js";

export const raftTuning: RaftTuning = {
  electionTicks: 10,
  heartbeatTicks: 2,
  maxInflightAppends: 4,
  maxAppendBytes: 64, // 16 four-byte payloads per append message
  maxUncommittedBytes: 96, // 24 payloads: a cut-off leader refuses soon
  preVote: true,
  checkQuorum: true,
  // The node's bounds on peers' terms (no run comes near them: they must never refuse an
  // honest message, which the liveness check would catch).
  maxTerm: raftTermMax,
  maxTermJump: raftTermJumpMax,
};

/** Per-step chances (cluster-wide unless named per replica). */
export interface Profile {
  crash: number;
  restart: number; // per down replica
  partition: number;
  oneWay: number;
  heal: number;
  weatherChange: number;
  writeBack: number; // per replica: the OS flushes some unsynced writes
  propose: number;
  read: number;
  snapshot: number; // per replica
  transfer: number;
  campaign: number;
  /** Chance a client request goes to a random replica instead of the known leader. */
  misdirect: number;
  /** Per replica: chance to miss a tick (a slow clock or a stalled process). */
  tickSkip: number;
  /** A process freezes for a while (GC pause, SIGSTOP) and wakes up believing what it believed. */
  pause: number;
  /** Per commit advance of a leader: chance to cut the leader off at once (see Nemesis). */
  isolateOnCommit: number;
  /** The leader is asked for a membership change: add a learner, promote one, remove a member. */
  confChange: number;
}

function pick(random: Prng, choices: readonly number[]): number {
  return choices[random.intBelow(choices.length)]!;
}

export function drawProfile(random: Prng): Profile {
  const violence = pick(random, [0.25, 0.5, 1, 2]);
  return {
    crash: 0.004 * violence,
    restart: pick(random, [0.02, 0.05, 0.2]),
    partition: 0.006 * violence,
    oneWay: 0.004 * violence,
    heal: pick(random, [0.01, 0.03, 0.1]),
    weatherChange: 0.01,
    writeBack: pick(random, [0.01, 0.1, 0.5]),
    propose: pick(random, [0.1, 0.3, 0.8]),
    read: pick(random, [0.02, 0.1, 0.3]),
    snapshot: pick(random, [0, 0.005, 0.03]),
    transfer: pick(random, [0, 0.002, 0.01]),
    campaign: pick(random, [0, 0.001, 0.005]),
    misdirect: pick(random, [0.05, 0.2]),
    tickSkip: pick(random, [0, 0, 0.05, 0.3]),
    pause: pick(random, [0, 0.003, 0.01]),
    isolateOnCommit: pick(random, [0, 0.01, 0.05]),
    confChange: pick(random, [0, 0.003, 0.01, 0.03]),
  };
}
