// A snapshot install cut short by the receiving node's crash: the node comes back, receives a
// snapshot again and ends with exactly the state of the others. The links into the receiver are
// slowed so that the SIGKILL lands while the snapshot is still on its way.

import { describe, expect, it } from "vitest";
import type { NodeId } from "../../src/cluster/config.js";
import { autoCleanup } from "../support/cleanup.js";
import { useCluster } from "../support/cluster-processes.js";

autoCleanup("all");

const compactAfterEntries = 200;
/** Slow enough that a snapshot of the state written below takes seconds to arrive. */
const slowLinkBytesPerSecond = 64 * 1024;

const { running, reported } = useCluster({
  shards: 1,
  proxies: true,
  nodeArgs: ["--compact-after-entries", String(compactAfterEntries)],
});

describe("a snapshot install interrupted by the receiver's crash", () => {
  it(
    "leaves the receiver able to restart, install a snapshot and reach the same state as the others",
    reported(async () => {
      const c = running();
      const shardId = c.shardIds[0]!;
      const leader = await c.leaderOf(shardId);
      const victim: NodeId = c.nodeIds.find((n) => n !== leader)!;
      await c.killNode(victim);

      // State worth a few hundred KiB, and a log compacted far past the victim.
      const client = c.gatewayClient(20_000);
      const account = await client.createAccount({ requestId: "interrupted-snapshot" });
      const description = "x".repeat(200);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < 2_000) {
            next++;
            await client.createTransaction({ accountId: account.id, amount: 1n, settled: true, description });
          }
        }),
      );

      const into = c.nodeIds.filter((n) => n !== victim).map((n) => c.link(n, victim));
      for (const link of into) link.setMode({ kind: "pass", bytesPerSecond: slowLinkBytesPerSecond });
      const first = await c.startNode(victim);
      await first.waitForJson((e) => e.msg === "receiving snapshot", 60_000);
      await c.killNode(victim);
      // The crash came before the snapshot was complete.
      expect(first.stdoutLines.some((l) => l.includes("snapshot staged and handed to Raft"))).toBe(false);

      for (const link of into) link.setMode({ kind: "pass" });
      const second = await c.startNode(victim);
      await second.waitForJson((e) => e.msg === "snapshot staged and handed to Raft", 60_000);
      const converged = await c.waitForConvergence([shardId], 60_000);
      const [replica] = await c.replicaStates(victim);
      expect(replica!.snapshotIndex).toBeGreaterThan(0n);
      expect(replica!.appliedIndex).toBeGreaterThanOrEqual(converged.get(shardId)!.appliedIndex);
      expect((await client.getAccount(account.id)).settledBalance).toBe(2_000n);
    }),
    180_000,
  );
});
