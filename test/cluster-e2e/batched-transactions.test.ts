// CreateTransactions through the gateway of a real 3-node, 16-shard cluster: 1,000 items spread
// over every shard, each with its own outcome; every account's balances equal the fold of the
// transactions the calls returned; a retry of the same call returns the same transactions and
// applies nothing twice; the replicas of every shard end in identical state; the gateway's call
// metrics count the method.

import { foldBalances } from "../../src/ledger/balance-fold.js";
import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import type { CreateTransactionInput, Transaction } from "../../src/client/index.js";
import { autoCleanup } from "../support/cleanup.js";
import { requestIdOnShard, useCluster } from "../support/cluster-processes.js";

autoCleanup("all");

const shardCount = 16;
const accountsPerShard = 4;
const items = 1_000;
const { running, reported } = useCluster({ shards: shardCount, http: true });

function fold(transactions: Iterable<Transaction>): [bigint, bigint] {
  const { available, settled } = foldBalances(transactions);
  return [available, settled];
}

describe("CreateTransactions through the gateway", () => {
  it(
    `applies ${items} items across all ${shardCount} shards with one outcome each; balances equal the fold; a retry of the same call applies nothing twice`,
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
      const batch: CreateTransactionInput[] = Array.from({ length: items }, (_, i) => ({
        accountId: accounts[prng.intBelow(accounts.length)]!,
        amount: BigInt(prng.intBelow(151) - 50) || 1n,
        settled: prng.nextU32() % 2 === 0,
        requestId: `batched-e2e-item-${i}`,
      }));
      const outcomes = await client.createTransactions(batch);
      expect(outcomes).toHaveLength(items);
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
