// A node SIGKILLed under write load and started again serves no read from a state older than
// what it knew committed when it stopped: a stale read is answered only at an applied index at
// least the commit index the replica loaded (its log is replayed first), and never older than
// what it had applied before the kill.

import { describe, expect, it } from "vitest";
import { isLedgerError } from "../../src/base/errors.js";
import type { NodeId } from "../../src/cluster/config.js";
import { getAccountQuery } from "../../src/gateway/core-requests.js";
import { parseAccountId } from "../../src/ledger/ids.js";
import { autoCleanup } from "../support/cleanup.js";
import { ReadConsistency, useCluster } from "../support/cluster-processes.js";

autoCleanup("all");

const { running, reported } = useCluster({ shards: 1 });

describe("reads on a node restarted under load", () => {
  it(
    "answers stale reads only at an applied index at or past the commit index it loaded, and past what it applied before the kill",
    reported(async () => {
      const c = running();
      const shardId = c.shardIds[0]!;
      const client = c.gatewayClient(20_000);
      const account = await client.createAccount({ requestId: "restart-reads" });
      const query = getAccountQuery(parseAccountId(account.id, "account id"));
      let writing = true;
      const writers = Array.from({ length: 8 }, async () => {
        while (writing)
          await client.createTransaction({ accountId: account.id, amount: 1n, settled: true }).catch(() => undefined);
      });
      try {
        const leader = await c.leaderOf(shardId);
        const victim: NodeId = c.nodeIds.find((n) => n !== leader)!;
        // Some writes first, so the victim has applied something to stay ahead of.
        await c.waitUntil("the victim applied 200 entries", 30_000, async () => {
          const [r] = await c.replicaStates(victim);
          return r !== undefined && r.appliedIndex >= 200n
            ? { done: true, value: undefined }
            : { done: false, why: `applied ${r?.appliedIndex}` };
        });
        const appliedBeforeKill = (await c.replicaStates(victim))[0]!.appliedIndex;
        await c.killNode(victim);
        const proc = await c.startNode(victim);
        const loaded = await proc.waitForJson((e) => e.msg === "replica loaded" && e.shard === shardId);
        const loadedCommit = BigInt(String(loaded.commit));

        const served: bigint[] = [];
        const refused: string[] = [];
        const until = Date.now() + 3_000;
        while (Date.now() < until || served.length === 0) {
          try {
            served.push((await c.read(victim, shardId, query, ReadConsistency.STALE, 2_000)).appliedIndex);
          } catch (e) {
            if (!isLedgerError(e)) throw e;
            refused.push(e.code);
            if (Date.now() > until + 20_000)
              throw new Error(`no stale read served within 23 s of the restart: ${refused.slice(-3).join(", ")}`);
          }
        }
        for (const index of served) {
          expect(index).toBeGreaterThanOrEqual(loadedCommit);
          expect(index).toBeGreaterThanOrEqual(appliedBeforeKill);
        }
      } finally {
        writing = false;
        await Promise.all(writers);
      }
    }),
    120_000,
  );
});
