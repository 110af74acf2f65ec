// The default layout (3 nodes, 16 shards, 3 replicas each) as real processes: leadership spreads
// over the nodes, and the public API works end to end through the gateway with every shard's
// replicas ending in identical state. CreateTransactions: 1,000 items spread over every shard,
// each with its own outcome; every account's balances equal the fold of the transactions the
// calls returned; a retry of the same call returns the same transactions and applies nothing
// twice; the gateway's call metrics count the method.

import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import { TransactionStatus, type CreateTransactionInput, type Transaction } from "../../src/client/index.js";
import type { NodeId } from "../../src/cluster/config.js";
import { foldBalances } from "../../src/ledger/balance-fold.js";
import { autoCleanup } from "../support/cleanup.js";
import { requestIdOnShard, useCluster } from "../support/cluster-processes.js";
import { ledgerRejection as rejection } from "../support/rejection.js";

autoCleanup("all");

const shardCount = 16;
/** With a preferred leader per shard the split is 6/5/5; 8 leaves room for moves in progress. */
const leadersPerNodeMax = 8;
const leaderSpreadWaitMs = 30_000;
const accountsPerShard = 4;
const batchItems = 1_000;

// http: the gateway's /metrics, read by the CreateTransactions test.
const { running, reported } = useCluster({ shards: shardCount, http: true });

function fold(transactions: Iterable<Transaction>): [bigint, bigint] {
  const { available, settled } = foldBalances(transactions);
  return [available, settled];
}

describe(`a 3-node cluster with ${shardCount} shards`, () => {
  it(
    `spreads leadership: once up, no node leads more than ${leadersPerNodeMax} of the ${shardCount} shards`,
    reported(async () => {
      const c = running();
      const counts = await c.waitUntil(
        `no node leads more than ${leadersPerNodeMax} shards`,
        leaderSpreadWaitMs,
        async () => {
          const leaders = await c.waitForLeaders();
          const perNode = new Map<NodeId, number>(c.nodeIds.map((id) => [id, 0]));
          for (const node of leaders.values()) perNode.set(node, (perNode.get(node) ?? 0) + 1);
          const max = Math.max(...perNode.values());
          const summary = [...perNode].map(([n, k]) => `${n}: ${k}`).join(", ");
          return max <= leadersPerNodeMax
            ? { done: true, value: perNode }
            : { done: false, why: `leaders per node: ${summary}` };
        },
      );
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(shardCount);
      for (const count of counts.values()) expect(count).toBeLessThanOrEqual(leadersPerNodeMax);
    }),
    90_000,
  );

  it(
    "serves all seven LedgerService calls through the gateway, and afterwards every shard's three replicas hold identical state",
    reported(async () => {
      const c = running();
      const client = c.gatewayClient(15_000);

      // CreateAccount without a request id, then with one and its idempotent retry.
      const a = await client.createAccount();
      expect(a.id).toMatch(/^[0-9a-f]{16}$/);
      expect([a.availableBalance, a.settledBalance]).toEqual([0n, 0n]);
      const b = await client.createAccount({ requestId: "cluster-e2e-account-b" });
      expect(await client.createAccount({ requestId: "cluster-e2e-account-b" })).toEqual(b);

      // CreateTransaction: settled topup, pending purchase, pending topup, insufficient funds.
      const topup = await client.createTransaction({
        accountId: a.id,
        amount: 1000n,
        settled: true,
        description: "topup",
      });
      expect(topup.status).toBe(TransactionStatus.SETTLED);
      const purchase = await client.createTransaction({
        accountId: a.id,
        amount: -300n,
        settled: false,
        description: "purchase",
      });
      expect(purchase.status).toBe(TransactionStatus.PENDING);
      const pendingTopup = await client.createTransaction({ accountId: a.id, amount: 50n, settled: false });
      expect(pendingTopup.status).toBe(TransactionStatus.PENDING);
      const tooBig = await client.createTransaction({ accountId: a.id, amount: -5000n, settled: true });
      expect(tooBig.status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);

      // GetAccount reflects the pending purchase in the available balance only.
      const afterCreates = await client.getAccount(a.id);
      expect([afterCreates.availableBalance, afterCreates.settledBalance]).toEqual([700n, 1000n]);

      // SettleTransaction and CancelTransaction, and a second settle refused.
      expect((await client.settleTransaction(purchase.id)).status).toBe(TransactionStatus.SETTLED);
      expect((await client.cancelTransaction(pendingTopup.id)).status).toBe(TransactionStatus.CANCELLED);
      expect((await rejection(client.settleTransaction(purchase.id))).code).toBe("FAILED_PRECONDITION");
      const afterSettle = await client.getAccount(a.id);
      expect([afterSettle.availableBalance, afterSettle.settledBalance]).toEqual([700n, 700n]);

      // GetTransaction returns the stored records.
      expect(await client.getTransaction(topup.id)).toEqual(topup);
      expect(await client.getTransaction(tooBig.id)).toEqual(tooBig);
      expect((await client.getTransaction(purchase.id)).status).toBe(TransactionStatus.SETTLED);
      expect((await rejection(client.getAccount("00000000000000ab"))).code).toBe("NOT_FOUND");

      // An idempotent CreateTransaction retry on b.
      const order = await client.createTransaction({
        accountId: b.id,
        amount: 25n,
        settled: true,
        requestId: "cluster-e2e-order-1",
      });
      expect(
        (
          await client.createTransaction({
            accountId: b.id,
            amount: 25n,
            settled: true,
            requestId: "cluster-e2e-order-1",
          })
        ).id,
      ).toBe(order.id);
      const bAccount = await client.getAccount(b.id);
      expect([bAccount.availableBalance, bAccount.settledBalance]).toEqual([25n, 25n]);

      // ListTransactions with paging, in creation order.
      const created = [topup.id, purchase.id, pendingTopup.id, tooBig.id];
      for (let i = 1; i <= 3; i++)
        created.push((await client.createTransaction({ accountId: a.id, amount: BigInt(i), settled: true })).id);
      const pages: Transaction[][] = [];
      let pageToken = "";
      do {
        const page = await client.listTransactions({ accountId: a.id, pageSize: 3, pageToken });
        pages.push(page.transactions);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && pages.length <= created.length);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(pages.flat().map((t) => t.id)).toEqual(created);

      // Touch every shard so the state comparison below covers ledger data on all of them.
      for (const shardId of c.shardIds) {
        const account = await client.createAccount({
          requestId: requestIdOnShard(c.config, shardId, "cluster-e2e-spread"),
        });
        await client.createTransaction({ accountId: account.id, amount: 7n, settled: true });
      }

      expect(c.liveNodeIds).toEqual(c.nodeIds);
      const converged = await c.waitForConvergence();
      expect([...converged.keys()].sort()).toEqual([...c.shardIds].sort());
      for (const [shardId, state] of converged) {
        expect(state.appliedIndex, shardId).toBeGreaterThan(0n);
        expect(state.stateHash, shardId).toMatch(/^[0-9a-f]{64}$/);
      }
    }),
    90_000,
  );
});

describe("CreateTransactions through the gateway", () => {
  it(
    `applies ${batchItems} items across all ${shardCount} shards with one outcome each; balances equal the fold; a retry of the same call applies nothing twice`,
    reported(async () => {
      const c = running();
      await c.waitForLeaders();
      const client = c.gatewayClient(30_000);
      const accounts: string[] = [];
      for (const shardId of c.shardIds) {
        for (let k = 0; k < accountsPerShard; k++)
          accounts.push(
            (await client.createAccount({ requestId: requestIdOnShard(c.config, shardId, `batched-e2e-${k}`) })).id,
          );
      }
      const topups = await client.createTransactions(
        accounts.map((accountId, i) => ({ accountId, amount: 200n, settled: true, requestId: `topup-${i}` })),
      );
      const byAccount = new Map<string, Transaction[]>(accounts.map((a) => [a, []]));
      for (const [i, o] of topups.entries()) byAccount.get(accounts[i]!)!.push(o.transaction!);

      const prng = seededPrng(20_26);
      const batch: CreateTransactionInput[] = Array.from({ length: batchItems }, (_, i) => ({
        accountId: accounts[prng.intBelow(accounts.length)]!,
        amount: BigInt(prng.intBelow(151) - 50) || 1n,
        settled: prng.nextU32() % 2 === 0,
        requestId: `batched-e2e-item-${i}`,
      }));
      const outcomes = await client.createTransactions(batch);
      expect(outcomes).toHaveLength(batchItems);
      expect(outcomes.filter((o) => o.error !== undefined).map((o) => o.error)).toEqual([]);
      for (const [i, o] of outcomes.entries()) {
        expect(o.transaction!.amount).toBe(batch[i]!.amount);
        byAccount.get(batch[i]!.accountId)!.push(o.transaction!);
      }

      const expectBalancesEqualFold = async (): Promise<void> => {
        for (const accountId of accounts) {
          const account = await client.getAccount(accountId);
          expect([account.availableBalance, account.settledBalance], accountId).toEqual(
            fold(byAccount.get(accountId)!),
          );
        }
      };
      await expectBalancesEqualFold();

      const retried = await client.createTransactions(batch);
      expect(retried).toEqual(outcomes);
      await expectBalancesEqualFold();
      // Nothing was stored twice: each account holds exactly the transactions returned for it.
      for (const accountId of accounts) {
        const stored: string[] = [];
        for await (const t of client.transactions(accountId, { pageSize: 1_000 })) stored.push(t.id);
        expect(stored.sort(), accountId).toEqual(
          byAccount
            .get(accountId)!
            .map((t) => t.id)
            .sort(),
        );
      }

      const converged = await c.waitForConvergence();
      expect([...converged.keys()].sort()).toEqual([...c.shardIds].sort());
      const metrics = await (await fetch(`http://${c.httpAddress("gateway")}/metrics`)).text();
      expect(metrics).toMatch(/ledger_grpc_server_handled_total\{method="CreateTransactions",code="OK"\} [1-9]/);
      client.close();
    }),
    180_000,
  );
});
