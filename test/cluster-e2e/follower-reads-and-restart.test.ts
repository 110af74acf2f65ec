// The node API addressed to one node at a time (proposals forwarded by a follower, stale reads
// served by a follower, linearizable reads on every node), then a restart of the whole cluster.

import { describe, expect, it } from "vitest";
import { TransactionStatus, type Account, type LedgerClient, type Transaction } from "../../src/client/index.js";
import type { NodeId, ShardId } from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import { createAccountCommand, getAccountQuery, getTransactionQuery } from "../../src/gateway/core-requests.js";
import { systemNowNanos } from "../../src/gateway/system-deps.js";
import { parseAccountId, parseTransactionId } from "../../src/ledger/ids.js";
import { autoCleanup } from "../support/cleanup.js";
import {
  ReadConsistency,
  decodeCommandResult,
  decodeQueryResult,
  randomAccountIdOnShard,
  requestIdOnShard,
  useCluster,
  type TestCluster,
} from "../support/cluster-processes.js";

autoCleanup("all");

const shardCount = 4;

const { running, reported } = useCluster({ shards: shardCount });

/**
 * The shard's leader and a follower that is not the shard's preferred leader either, so the
 * node's leader balancing does not make it the leader while the test talks to it.
 */
async function followerOf(c: TestCluster, shardId: ShardId): Promise<{ leader: NodeId; follower: NodeId }> {
  const leader = await c.leaderOf(shardId);
  const shard = c.shard(shardId);
  const preferred = shard.replicas[c.shardIds.indexOf(shardId) % shard.replicas.length]!.nodeId;
  const follower = shard.replicas.find((r) => r.nodeId !== leader && r.nodeId !== preferred)?.nodeId;
  if (follower === undefined) throw new Error(`${shardId} has no follower`);
  return { leader, follower };
}

describe("the node API on single nodes", () => {
  it(
    "applies a proposal sent to a follower node: the follower forwards it and the leader serves it afterwards",
    reported(async () => {
      const c = running();
      const shardId = c.shardIds[1]!;
      const { leader, follower } = await followerOf(c, shardId);
      const accountId = randomAccountIdOnShard(c.config, shardId);

      const reply = await c.propose(follower, shardId, createAccountCommand(systemNowNanos(), accountId, ""));
      const result = decodeCommandResult(reply.result);
      expect(result.kind.case).toBe("account");
      expect(result.kind.case === "account" && result.kind.value.id).toBe(accountId);
      expect(reply.index).toBeGreaterThan(0n);

      const read = await c.read(leader, shardId, getAccountQuery(accountId), ReadConsistency.LINEARIZABLE);
      expect(read.appliedIndex).toBeGreaterThanOrEqual(reply.index);
      const seen = decodeQueryResult(read.result);
      expect(seen.kind.case === "account" && seen.kind.value.id).toBe(accountId);
    }),
    60_000,
  );

  it(
    "serves a stale read from a follower node with the data the shard has applied",
    reported(async () => {
      const c = running();
      const shardId = c.shardIds[2]!;
      const client = c.gatewayClient();
      const account = await client.createAccount({ requestId: requestIdOnShard(c.config, shardId, "stale-read") });
      await client.createTransaction({ accountId: account.id, amount: 42n, settled: true });
      // A stale read may lag; once the replicas have converged it must show the write.
      await c.waitForConvergence([shardId]);
      const { follower } = await followerOf(c, shardId);

      const read = await c.read(
        follower,
        shardId,
        getAccountQuery(parseAccountId(account.id, "account id")),
        ReadConsistency.STALE,
      );
      const result = decodeQueryResult(read.result);
      expect(result.kind.case).toBe("account");
      if (result.kind.case !== "account") return;
      expect([
        result.kind.value.availableBalance,
        result.kind.value.settledBalance,
        result.kind.value.transactionCount,
      ]).toEqual([42n, 42n, 1n]);
      expect(read.appliedIndex).toBeGreaterThan(0n);
    }),
    60_000,
  );

  it(
    "never returns data older than an acknowledged write from a linearizable read on any node",
    reported(async () => {
      const c = running();
      const client = c.gatewayClient();
      const account = await client.createAccount();
      const accountId = parseAccountId(account.id, "account id");
      const shardId = shardForAccount(c.config, accountId).id;
      let balance = 0n;
      for (let i = 1; i <= 6; i++) {
        const t = await client.createTransaction({ accountId: account.id, amount: BigInt(i), settled: true });
        balance += BigInt(i);
        // Right after the acknowledgement, each node in turn (a different one first each time).
        const order = c.nodeIds.map((_, k) => c.nodeIds[(i + k) % c.nodeIds.length]!);
        for (const node of order) {
          const tx = decodeQueryResult(
            (
              await c.read(
                node,
                shardId,
                getTransactionQuery(parseTransactionId(t.id, "id")),
                ReadConsistency.LINEARIZABLE,
              )
            ).result,
          );
          expect(tx.kind.case, `transaction ${i} read on ${node}`).toBe("transaction");
          const acc = decodeQueryResult(
            (await c.read(node, shardId, getAccountQuery(accountId), ReadConsistency.LINEARIZABLE)).result,
          );
          expect(
            acc.kind.case === "account" && acc.kind.value.availableBalance,
            `balance after write ${i} read on ${node}`,
          ).toBe(balance);
        }
      }
    }),
    60_000,
  );
});

interface AccountSnapshot {
  account: Account;
  transactions: Transaction[];
}

async function snapshotOf(client: LedgerClient, accountIds: string[]): Promise<Map<string, AccountSnapshot>> {
  const snapshot = new Map<string, AccountSnapshot>();
  for (const id of accountIds) {
    const transactions: Transaction[] = [];
    for await (const t of client.transactions(id, { pageSize: 4 })) transactions.push(t);
    snapshot.set(id, { account: await client.getAccount(id), transactions });
  }
  return snapshot;
}

describe("a restart of the whole cluster", () => {
  it(
    "keeps every account, balance and transaction after SIGTERM of every process and a new start",
    reported(async () => {
      const c = running();
      const client = c.gatewayClient(15_000);
      const accountIds: string[] = [];
      for (const shardId of c.shardIds) {
        const account = await client.createAccount({ requestId: requestIdOnShard(c.config, shardId, "restart") });
        accountIds.push(account.id);
        await client.createTransaction({ accountId: account.id, amount: 100n, settled: true });
        const purchase = await client.createTransaction({ accountId: account.id, amount: -30n, settled: false });
        await client.settleTransaction(purchase.id);
        const topup = await client.createTransaction({ accountId: account.id, amount: 20n, settled: false });
        await client.cancelTransaction(topup.id);
        await client.createTransaction({ accountId: account.id, amount: -1000n, settled: true });
        await client.createTransaction({ accountId: account.id, amount: -5n, settled: false });
      }
      const before = await snapshotOf(client, accountIds);
      for (const { account, transactions } of before.values()) {
        expect([account.availableBalance, account.settledBalance]).toEqual([65n, 70n]);
        expect(transactions.map((t) => t.status)).toEqual([
          TransactionStatus.SETTLED,
          TransactionStatus.SETTLED,
          TransactionStatus.CANCELLED,
          TransactionStatus.INSUFFICIENT_FUNDS,
          TransactionStatus.PENDING,
        ]);
      }

      await Promise.all([c.stopGateway(), ...c.nodeIds.map((id) => c.killNode(id, "SIGTERM"))]);
      await Promise.all(c.nodeIds.map((id) => c.startNode(id)));
      await c.waitForLeaders();
      await c.startGateway();

      const after = c.gatewayClient(15_000);
      expect(await snapshotOf(after, accountIds)).toEqual(before);
      for (const { transactions } of before.values()) {
        for (const t of transactions) expect(await after.getTransaction(t.id)).toEqual(t);
      }
    }),
    90_000,
  );
});
