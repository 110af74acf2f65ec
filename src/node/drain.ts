// A stopping node's leadership drain: every shard it leads is handed to a follower before the
// node goes away, so the shard keeps serving without waiting out an election timeout. A transfer
// that did not take is tried again. A leadership that left and came back is kept: it comes back
// when the other nodes are stopping too (the whole cluster is shut down), and handing it round
// again would only bounce it between stopping nodes until the drain's time limit.

import type { Logger } from "../base/logger.js";
import type { ShardId } from "../cluster/config.js";
import { nodeDrainMsMax, nodeDrainPollMs } from "./limits.js";
import { handLeadershipAway } from "./leadership.js";
import type { NodeHost } from "./node-host.js";

export interface LeadershipDrain {
  /** Resolves when this node leads no shard, or after `nodeDrainMsMax` with the shards it still leads. */
  readonly settled: Promise<ShardId[]>;
  /** Stops looking (just before the host closes). */
  stop(): void;
}

export function drainLeadership(
  host: NodeHost,
  logger: Logger,
  maxMs = nodeDrainMsMax,
  pollMs = nodeDrainPollMs,
): LeadershipDrain {
  const startMs = Date.now();
  const handedOver = new Set<ShardId>();
  /** Shards handed over and seen led elsewhere since: done, even if they come back. */
  const left = new Set<ShardId>();
  let resolveSettled: (stillLeading: ShardId[]) => void = () => undefined;
  const settled = new Promise<ShardId[]>((resolve) => (resolveSettled = resolve));
  let done = false;
  const leading = (): ShardId[] =>
    [...host.replicas.values()].filter((r) => r.isLeader && !left.has(r.shard.id)).map((r) => r.shard.id);
  const look = (): void => {
    for (const r of host.replicas.values()) if (handedOver.has(r.shard.id) && !r.isLeader) left.add(r.shard.id);
    // Inside a loop turn: the only place the Raft groups may be touched.
    host.enqueue(() => {
      const toMove = [...host.replicas.values()].filter((r) => !left.has(r.shard.id));
      for (const shard of handLeadershipAway(toMove, host.nodeOfReplica, logger)) handedOver.add(shard);
    });
    const still = leading();
    if (done) return;
    if (still.length === 0) {
      done = true;
      logger.info({ shards: [...handedOver].sort(), ms: Date.now() - startMs }, "drained: this node leads no shard");
      resolveSettled([]);
    } else if (Date.now() - startMs >= maxMs) {
      done = true;
      logger.warn(
        { shards: still, ms: Date.now() - startMs },
        "could not hand over the leadership of these shards; stopping anyway (they elect a new leader after an election timeout)",
      );
      resolveSettled(still);
    }
  };
  look();
  const timer = setInterval(look, pollMs);
  return {
    settled,
    stop: () => {
      clearInterval(timer);
      if (!done) {
        done = true;
        resolveSettled(leading());
      }
    },
  };
}
