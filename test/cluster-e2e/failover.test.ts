// Node failures as real processes: SIGKILL of a shard's leader under concurrent writes through
// the gateway (failover, no lost acknowledged write, catch-up after restart), then losing one
// and two of the three nodes (service goes on, then fails fast, then recovers).
// The tests of each describe block run in order on the same cluster: each is one step of the
// scenario and states what that step proves.

import { afterAll, describe, expect, it } from "vitest";
import { TransactionStatus, type LedgerError, type Transaction } from "../../src/client/index.js";
import type { NodeId, ShardId } from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import { parseAccountId } from "../../src/ledger/ids.js";
import { autoCleanup } from "../support/cleanup.js";
import { requestIdOnShard, useCluster } from "../support/cluster-processes.js";
import { ConcurrentWriters } from "../support/concurrent-writers.js";

autoCleanup("all");

const shardCount = 4;
/** "A new leader within a few seconds": elections time out after 1-2 s; 10 s allows a busy machine. */
const failoverMsMax = 10_000;
const writerCount = 4;
/** Acknowledged writes before the kill, and on the killed leader's shard after the failover. */
const acksBeforeKill = 40;
const acksAfterFailover = 20;
/** Back-off of a writer after a failed call, so a fast-failing gateway is not hammered. */
const writerRetryPauseMs = 50;

const { running, reported } = useCluster({ shards: shardCount });

describe("SIGKILL of a shard's leader during concurrent writes", () => {
  let writers: ConcurrentWriters | undefined;
  let victim: NodeId | undefined;
  let victimShard: ShardId | undefined;
  let failoverDoneMs = 0;

  afterAll(async () => {
    await writers?.stop();
  });

  it(
    `elects a new leader for the shard within ${failoverMsMax / 1000} s`,
    reported(async () => {
      const c = running();
      const shardId = c.shardIds[0]!;
      victimShard = shardId;
      const setup = c.gatewayClient(15_000);
      // Two accounts on the victim's shard, one on each other shard.
      const accounts: { id: string; shardId: ShardId }[] = [];
      for (const [i, s] of [shardId, ...c.shardIds].entries()) {
        const account = await setup.createAccount({ requestId: requestIdOnShard(c.config, s, `failover-${i}`) });
        accounts.push({ id: account.id, shardId: s });
      }
      writers = new ConcurrentWriters(
        Array.from({ length: writerCount }, () => c.gatewayClient()),
        accounts,
        { requestIdPrefix: "failover-", timeoutMs: 5_000, retryPauseMs: writerRetryPauseMs },
      );
      await writers.waitForAcks(() => true, acksBeforeKill, 30_000);

      victim = await c.leaderOf(shardId);
      const killedAtMs = Date.now();
      const exit = await c.killNode(victim, "SIGKILL");
      expect(exit.signal).toBe("SIGKILL");
      const leaders = await c.waitForLeaders(failoverMsMax + 5_000);
      failoverDoneMs = Date.now();
      const newLeader = leaders.get(shardId);
      expect(newLeader).not.toBe(victim);
      expect(failoverDoneMs - killedAtMs).toBeLessThanOrEqual(failoverMsMax);
    }),
    90_000,
  );

  it(
    "resumes writes to that shard through the gateway after the failover",
    reported(async () => {
      if (!writers || victimShard === undefined) throw new Error("the failover step did not run");
      const shardId = victimShard;
      await writers.waitForAcks((a) => a.shardId === shardId && a.atMs > failoverDoneMs, acksAfterFailover, 30_000);
    }),
    60_000,
  );

  it(
    "fails the writes it cannot complete during the failover only with UNAVAILABLE or DEADLINE_EXCEEDED",
    reported(async () => {
      if (!writers) throw new Error("the failover step did not run");
      await writers.stop();
      const codes = new Set(writers.failures.map((f) => f.code));
      for (const code of codes)
        expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"], writers.failures.find((f) => f.code === code)?.message).toContain(
          code,
        );
    }),
    60_000,
  );

  it(
    "keeps every acknowledged transaction, and each account's balances equal the sum of its stored transactions",
    reported(async () => {
      const c = running();
      if (!writers) throw new Error("the failover step did not run");
      await writers.stop();
      const client = c.gatewayClient(15_000);
      expect(writers.acks.length).toBeGreaterThanOrEqual(acksBeforeKill + acksAfterFailover);
      for (const { transaction } of writers.acks) {
        expect(await client.getTransaction(transaction.id)).toEqual(transaction);
      }
      const accountIds = new Set(writers.acks.map((a) => a.accountId));
      for (const accountId of accountIds) {
        const stored: Transaction[] = [];
        for await (const t of client.transactions(accountId, { pageSize: 500 })) stored.push(t);
        const storedIds = new Set(stored.map((t) => t.id));
        for (const a of writers.acks) if (a.accountId === accountId) expect(storedIds.has(a.transaction.id)).toBe(true);
        const settled = stored
          .filter((t) => t.status === TransactionStatus.SETTLED)
          .reduce((sum, t) => sum + t.amount, 0n);
        const account = await client.getAccount(accountId);
        expect([account.availableBalance, account.settledBalance]).toEqual([settled, settled]);
      }
    }),
    90_000,
  );

  it(
    "catches up the killed node after a restart: same applied index and state hash as the leader on every shard",
    reported(async () => {
      const c = running();
      if (victim === undefined) throw new Error("the failover step did not run");
      await c.startNode(victim);
      expect(c.liveNodeIds).toEqual(c.nodeIds);
      const converged = await c.waitForConvergence(c.shardIds, 60_000);
      expect(converged.size).toBe(shardCount);
      // The convergence above compared the restarted node's hashes with the others' at one
      // moment. Asked again now, it may be further on (leader balancing appends an entry per
      // handover), never behind.
      const restarted = await c.replicaStates(victim);
      for (const [shardId, { appliedIndex }] of converged) {
        const replica = restarted.find((r) => r.shardId === shardId);
        expect(replica?.caughtUp, shardId).toBe(true);
        expect(replica?.appliedIndex, shardId).toBeGreaterThanOrEqual(appliedIndex);
      }
    }),
    90_000,
  );
});

/** The call's error and how long it took, or undefined if it succeeded. */
async function timedFailure(
  call: () => Promise<unknown>,
): Promise<{ error: LedgerError | undefined; elapsedMs: number }> {
  const start = Date.now();
  try {
    await call();
    return { error: undefined, elapsedMs: Date.now() - start };
  } catch (e) {
    return { error: e as LedgerError, elapsedMs: Date.now() - start };
  }
}

describe("losing nodes", () => {
  const callDeadlineMs = 3_000;
  /** Scheduling slack on a busy 2-core machine beyond the call's own deadline. */
  const deadlineSlackMs = 2_000;
  const accounts = new Map<ShardId, string>();
  const stopped: NodeId[] = [];
  const failedWrites: { requestId: string; error: LedgerError }[] = [];

  it(
    "goes on serving reads and writes on every shard with one of three nodes stopped",
    reported(async () => {
      const c = running();
      await c.waitForLeaders();
      const client = c.gatewayClient(15_000);
      for (const shardId of c.shardIds) {
        const account = await client.createAccount({ requestId: requestIdOnShard(c.config, shardId, "losing") });
        accounts.set(shardId, account.id);
      }
      const first = c.nodeIds[0]!;
      await c.killNode(first, "SIGTERM");
      stopped.push(first);
      for (const [shardId, accountId] of accounts) {
        expect(shardForAccount(c.config, parseAccountId(accountId, "id")).id).toBe(shardId);
        await client.createTransaction({ accountId, amount: 10n, settled: true });
        const account = await client.getAccount(accountId);
        expect([account.availableBalance, account.settledBalance], shardId).toEqual([10n, 10n]);
      }
    }),
    90_000,
  );

  it(
    `fails calls with UNAVAILABLE or DEADLINE_EXCEEDED within their ${callDeadlineMs} ms deadline with two of three nodes stopped`,
    reported(async () => {
      const c = running();
      if (accounts.size !== shardCount) throw new Error("the one-node-stopped step did not run");
      const second = c.nodeIds[1]!;
      await c.killNode(second, "SIGTERM");
      stopped.push(second);
      const client = c.gatewayClient();
      const calls = [...accounts.values()].flatMap((accountId, i) => {
        const requestId = `two-down-${i}`;
        return [
          {
            write: true,
            requestId,
            call: () =>
              client.createTransaction(
                { accountId, amount: 1n, settled: true, requestId },
                { timeoutMs: callDeadlineMs },
              ),
          },
          { write: false, requestId, call: () => client.getAccount(accountId, { timeoutMs: callDeadlineMs }) },
        ];
      });
      const outcomes = await Promise.all(calls.map(async (c) => ({ ...c, ...(await timedFailure(c.call)) })));
      failedWrites.push(
        ...outcomes.flatMap((o) => (o.write && o.error ? [{ requestId: o.requestId, error: o.error }] : [])),
      );
      for (const { error, elapsedMs } of outcomes) {
        expect(error?.code, error?.message ?? "the call succeeded").toBeOneOf(["UNAVAILABLE", "DEADLINE_EXCEEDED"]);
        expect(elapsedMs).toBeLessThanOrEqual(callDeadlineMs + deadlineSlackMs);
      }
    }),
    60_000,
  );

  it(
    "says of each write that failed with two nodes stopped either that it was not applied, or that its outcome is unknown and a retry with the same request_id is safe",
    reported(async () => {
      if (failedWrites.length === 0) throw new Error("the two-nodes-stopped step recorded no failed write");
      for (const { requestId, error } of failedWrites) {
        const notApplied = /was not applied/.test(error.message);
        const unknownButSafe =
          /outcome unknown/.test(error.message) && error.message.includes(`same request_id "${requestId}" is safe`);
        expect(notApplied || unknownButSafe, `${error.code}: ${error.message}`).toBe(true);
      }
    }),
    30_000,
  );

  it(
    "serves calls again once a stopped node returns",
    reported(async () => {
      const c = running();
      const back = stopped.shift();
      if (back === undefined) throw new Error("no node was stopped");
      await c.startNode(back);
      const client = c.gatewayClient();
      // The returning node replays its log and an election follows: retry until it succeeds.
      for (const [shardId, accountId] of accounts) {
        const written = await c.waitUntil(`a write on ${shardId} succeeds`, 30_000, async () => {
          try {
            return {
              done: true,
              value: await client.createTransaction({ accountId, amount: 5n, settled: true }, { timeoutMs: 5_000 }),
            };
          } catch (e) {
            return { done: false, why: `${(e as LedgerError).code}: ${(e as LedgerError).message}` };
          }
        });
        expect(await client.getTransaction(written.id)).toEqual(written);
      }
    }),
    90_000,
  );

  it(
    "brings a returning node up to date by snapshot when the live replicas compacted the entries it missed",
    reported(async () => {
      const c = running();
      const missing = stopped.shift();
      if (missing === undefined || accounts.size !== shardCount)
        throw new Error("the earlier steps of this scenario did not run");
      const client = c.gatewayClient(15_000);
      // Entries the stopped node has not seen, on every shard.
      for (const accountId of accounts.values())
        await client.createTransaction({ accountId, amount: 3n, settled: true });
      const snapshotIndexes = new Map<ShardId, bigint>();
      for (const shardId of c.shardIds) {
        // Compact on every live replica, so whichever leads must send a snapshot.
        const indexes = await Promise.all(c.liveNodeIds.map((node) => c.triggerSnapshot(node, shardId)));
        snapshotIndexes.set(
          shardId,
          indexes.reduce((a, b) => (a < b ? a : b)),
        );
      }
      await c.startNode(missing);
      const converged = await c.waitForConvergence(c.shardIds, 60_000);
      expect(converged.size).toBe(shardCount);
      const returned = await c.replicaStates(missing);
      for (const [shardId, index] of snapshotIndexes) {
        const replica = returned.find((r) => r.shardId === shardId);
        expect(replica?.snapshotIndex, `${shardId} on ${missing}`).toBeGreaterThanOrEqual(index);
      }
    }),
    90_000,
  );
});
