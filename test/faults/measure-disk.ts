// Disk use under sustained writes, with and without log compaction: starts a 4-shard cluster,
// writes 60,000 settled topups from 64 writers, and after every 15,000 prints each node's data
// dir size (du) and the log entries each replica holds. Run: npx tsx test/faults/measure-disk.ts

import { execSync } from "node:child_process";
import { startCluster } from "../support/cluster-processes.js";
import { removeAllTempDirs } from "../support/temp-dirs.js";

async function measure(compact: number, total: number, step: number): Promise<void> {
  const c = await startCluster({ shards: 4, nodeArgs: ["--compact-after-entries", String(compact)] });
  try {
    await c.waitForLeaders(60_000);
    const client = c.gatewayClient(30_000);
    const accounts: string[] = [];
    for (let i = 0; i < 64; i++) accounts.push((await client.createAccount({ requestId: `disk-${i}` })).id);
    let done = 0;
    for (let target = step; target <= total; target += step) {
      let next = done;
      await Promise.all(
        accounts.map(async (accountId) => {
          while (next < target) {
            next++;
            await client.createTransaction({ accountId, amount: 1n, settled: true });
          }
        }),
      );
      done = target;
      const du = c.nodeIds.map((n) => Number(execSync(`du -sb ${c.dir}/${n}`).toString().split("\t")[0]));
      const states = await c.replicaStates("node01");
      const held = states.map((s) => Number(s.lastIndex - s.snapshotIndex));
      console.log(
        JSON.stringify({
          compactAfterEntries: compact,
          transactions: done,
          duMiB: du.map((b) => +(b / 2 ** 20).toFixed(1)),
          logEntriesHeldPerShard: held,
        }),
      );
    }
  } finally {
    await c.stop();
  }
}
await measure(2_000, 60_000, 15_000);
await measure(10_000_000, 60_000, 15_000);
await removeAllTempDirs();
