// Log compaction in the running cluster (nodes started with a small --compact-after-entries):
// logs stay bounded under sustained writes, and a node that was down while the others compacted
// past its position comes back by snapshot install, with the same state as the others.

import { describe, expect, it } from "vitest";
import type { NodeId } from "../../src/cluster/config.js";
import { autoCleanup } from "../support/cleanup.js";
import { useCluster, type TestCluster } from "../support/cluster-processes.js";

autoCleanup("all");

const compactAfterEntries = 200;
/** Entries kept after a compaction (a quarter of the threshold, see cmd/node.ts). */
const keptEntries = compactAfterEntries / 4;

const { running, reported } = useCluster({
  shards: 1,
  nodeArgs: ["--compact-after-entries", String(compactAfterEntries)],
});

/** `count` settled topups on one account, `concurrency` at a time, all acknowledged. */
async function writeMany(c: TestCluster, accountId: string, count: number, concurrency = 16): Promise<void> {
  const client = c.gatewayClient(20_000);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await client.createTransaction({ accountId, amount: 1n, settled: true });
      }
    }),
  );
}

describe("log compaction in a running cluster", () => {
  it(
    "keeps every replica's log within the compaction threshold under sustained writes",
    reported(async () => {
      const c = running();
      const account = await c.gatewayClient().createAccount({ requestId: "compaction-sustained" });
      await writeMany(c, account.id, 5 * compactAfterEntries);
      for (const node of c.nodeIds) {
        const [replica] = await c.replicaStates(node);
        if (replica === undefined) throw new Error(`${node} reports no replica`);
        // Compaction runs in the loop turn after the log passes the threshold.
        expect(replica.snapshotIndex, `${node} compacted`).toBeGreaterThan(0n);
        expect(replica.lastIndex - replica.snapshotIndex, `${node}: entries held`).toBeLessThanOrEqual(
          BigInt(compactAfterEntries + keptEntries),
        );
      }
      expect((await c.gatewayClient().getAccount(account.id)).settledBalance).toBe(BigInt(5 * compactAfterEntries));
    }),
    120_000,
  );

  it(
    "brings back a node that missed more than the compacted entries by snapshot install, to the same state",
    reported(async () => {
      const c = running();
      const shardId = c.shardIds[0]!;
      const leader = await c.leaderOf(shardId);
      const victim: NodeId = c.nodeIds.find((n) => n !== leader)!;
      const [before] = await c.replicaStates(victim);
      await c.killNode(victim);

      const account = await c.gatewayClient().createAccount({ requestId: "compaction-catch-up" });
      await writeMany(c, account.id, 3 * compactAfterEntries);
      const live = c.nodeIds.filter((n) => n !== victim);
      const compactedTo = (
        await Promise.all(live.map(async (n) => (await c.replicaStates(n))[0]!.snapshotIndex))
      ).reduce((a, b) => (a < b ? a : b));
      // The entries after the victim's position are gone from every live log: only a snapshot helps.
      expect(compactedTo).toBeGreaterThan(before!.appliedIndex);

      const proc = await c.startNode(victim);
      const installed = proc.waitForJson((e) => e.msg === "snapshot staged and handed to Raft", 60_000);
      await c.waitForConvergence([shardId], 60_000);
      await installed;
      const [after] = await c.replicaStates(victim);
      expect(after!.snapshotIndex).toBeGreaterThanOrEqual(compactedTo);
      expect((await c.gatewayClient().getAccount(account.id)).settledBalance).toBe(BigInt(3 * compactAfterEntries));
    }),
    120_000,
  );
});
