// The node's write path (DESIGN §7): each loop turn puts every replica's new entries in ONE chained
// batch, synced once. A node therefore syncs far less often than it persists entries, and when
// entries of several shards are waiting, one synced batch carries them all.

import { afterAll, describe, expect, it } from "vitest";
import { MessageType } from "../../src/raft/index.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import { RaftKeyKind, raftTag } from "../../src/storage/replica-keys.js";
import { cleanUpEverything } from "../support/cleanup.js";
import { InProcessCluster, accountIn, testTimestamp, waitFor } from "./support/in-process-cluster.js";

interface SyncedWrite {
  entriesByReplica: Map<number, number>;
}

interface WriteSpy {
  writes: SyncedWrite[];
  /** Resolves when the next synced write has been held; `release` lets it go on. */
  holdNext(): { held: Promise<void>; release(): void };
}

/**
 * Records, for every synced batch the host writes, how many log entries of each replica it
 * holds; can hold one write back so that inputs pile up for the loop's next turn.
 */
function spyOnSyncedWrites(db: { batch(): unknown }): WriteSpy {
  const writes: SyncedWrite[] = [];
  let hold: { reached(): void; released: Promise<void> } | undefined;
  const original = db.batch.bind(db) as () => {
    put(k: Uint8Array, v: Uint8Array): unknown;
    write(o?: { sync?: boolean }): Promise<void>;
  };
  db.batch = () => {
    const batch = original();
    const entriesByReplica = new Map<number, number>();
    const put = batch.put.bind(batch);
    batch.put = (key: Uint8Array, value: Uint8Array) => {
      // Entry keys: "R" [replica id 4B] [kind] [index 8B].
      if (key[0] === raftTag && key[5] === RaftKeyKind.entry) {
        const replica = new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(1);
        entriesByReplica.set(replica, (entriesByReplica.get(replica) ?? 0) + 1);
      }
      return put(key, value);
    };
    const write = batch.write.bind(batch);
    batch.write = async (options?: { sync?: boolean }) => {
      if (options?.sync !== true) return write(options);
      writes.push({ entriesByReplica });
      const h = hold;
      hold = undefined;
      if (h !== undefined) {
        h.reached();
        await h.released;
      }
      return write(options);
    };
    return batch;
  };
  return {
    writes,
    holdNext: () => {
      let reached!: () => void;
      let release!: () => void;
      const held = new Promise<void>((r) => (reached = r));
      const released = new Promise<void>((r) => (release = r));
      hold = { reached, released };
      return { held, release };
    },
  };
}

describe("NodeHost write path", () => {
  let cluster: InProcessCluster | undefined;

  afterAll(async () => {
    await cluster?.close();
    await cleanUpEverything();
  });

  it("syncs far less often than it persists entries, and one synced batch carries the entries of every shard waiting in that turn", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 3 }));
    const leaders = await c.waitForLeaders({ preferred: true });
    // Watch one node: it leads one shard and follows the other two.
    const watched = c.nodeIds[0] ?? "";
    const spy = spyOnSyncedWrites(c.host(watched).db);
    const otherShards = c.config.shards.filter((s) => leaders.get(s.id) !== watched);
    const lastIndexOnLeader = (shardId: string) =>
      c
        .host(leaders.get(shardId) ?? "")
        .replicaOf(shardId)
        .log.lastIndex();
    const before = new Map(otherShards.map((s) => [s.id, lastIndexOnLeader(s.id)]));

    // Hold the watched node's next synced write, so that while it waits the other leaders' appends
    // reach it: its next turn then finds entries of several shards at once.
    const host = c.host(watched);
    const appendsDelivered = new Set<string>();
    const deliver = host.deliver.bind(host);
    host.deliver = (from, messages) => {
      for (const { shardId, message } of messages)
        if (message.type === MessageType.Append && message.entries.length > 0) appendsDelivered.add(shardId);
      deliver(from, messages);
    };
    const hold = spy.holdNext();
    const perShard = 40;
    const proposals = Promise.all(
      c.config.shards.flatMap((shard) =>
        Array.from({ length: perShard }, () =>
          c.proposeOn(
            leaders.get(shard.id) ?? "",
            shard.id,
            createAccountCommand(testTimestamp, accountIn(c.config, shard.id), ""),
          ),
        ),
      ),
    );
    await hold.held;
    await waitFor("the other leaders to append their proposals", undefined, async () =>
      otherShards.every((s) => lastIndexOnLeader(s.id) >= (before.get(s.id) ?? 0) + perShard) ? true : undefined,
    );
    // ...and until those appends have reached the watched node's inbox: on a loaded machine they
    // may still be in flight when the leaders are done.
    await waitFor("the watched node to receive appends of every other shard", undefined, async () =>
      otherShards.every((s) => appendsDelivered.has(s.id)) ? true : undefined,
    );
    hold.release();
    await proposals;

    const { writes } = spy;
    const entries = writes.reduce((sum, w) => sum + [...w.entriesByReplica.values()].reduce((a, b) => a + b, 0), 0);
    expect(entries).toBeGreaterThanOrEqual(3 * perShard);
    // Group commit: far fewer fsyncs than entries persisted.
    expect(writes.length).toBeLessThan(entries / 2);
    // One fsync for all shards: a synced batch holds entries of more than one replica.
    expect(Math.max(...writes.map((w) => w.entriesByReplica.size))).toBeGreaterThanOrEqual(2);
    expect(c.fatalErrors).toEqual([]);
  });
});
