// NodeHost's write path (DESIGN §7). Each loop turn puts every replica's new entries in ONE
// chained batch, synced once: a node syncs far less often than it persists entries, and when
// entries of several shards are waiting, one synced batch carries them all. A batch proposal
// (NodeHost.proposeBatch) is ONE log entry, applied in order on every replica, each command
// independently with its own outcome, and batch entries survive restarts. The checks NodeService
// makes of a batch before the log: node-service.test.ts.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageType } from "../../src/raft/index.js";
import { nodePendingProposalsMax } from "../../src/node/limits.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import { CoreErrorCode, type CommandResult } from "../../src/gen/ledger/core/v1/core_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import type { ReplicaSummary } from "../../src/node/node-host.js";
import { RaftKeyKind, raftTag } from "../../src/storage/replica-keys.js";
import { cleanUpEverything } from "../support/cleanup.js";
import { ledgerRejection } from "../support/rejection.js";
import {
  InProcessCluster,
  accountIn,
  accountOfResult,
  encodedTransaction as tx,
  fundedAccount,
  testTimestamp,
  transactionOfResult,
  waitFor,
} from "./support/in-process-cluster.js";

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

describe("NodeHost write path: group commit", () => {
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

describe("NodeHost.proposeBatch", () => {
  let cluster: InProcessCluster;
  let shardId: string;
  let otherShardId: string;

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ shards: 2 });
    await cluster.waitForStableLeaders();
    shardId = cluster.config.shards[0]?.id ?? "";
    otherShardId = cluster.config.shards[1]?.id ?? "";
  });

  afterAll(async () => {
    const fatal = cluster.fatalErrors;
    await cluster.close();
    await cleanUpEverything();
    expect(fatal).toEqual([]);
  });

  async function leaderOf(id: string): Promise<string> {
    return (await cluster.waitForStableLeaders()).get(id) ?? "";
  }

  async function newAccount(id: string, leader: string, deposit: bigint): Promise<bigint> {
    return (await fundedAccount(cluster, id, leader, deposit)).accountId;
  }

  function expectSameState(replicas: Map<string, ReplicaSummary>): void {
    const hashes = new Set(
      [...replicas.values()].map((s) => Buffer.from(s.stateHash ?? new Uint8Array(0)).toString("hex")),
    );
    expect(replicas.size).toBe(3);
    expect(hashes.size).toBe(1);
  }

  function coreErrorOf(r: CommandResult | unknown): CoreErrorCode {
    const result = r as CommandResult;
    if (result.kind?.case !== "error") throw new Error(`expected a core error, got ${String(result.kind?.case)}`);
    return result.kind.value.code;
  }

  it("a batch is one log entry, applied on all three replicas in order with independent outcomes, to the same state", async () => {
    const leader = await leaderOf(shardId);
    const a = await newAccount(shardId, leader, 100n);
    const missing = accountIn(cluster.config, shardId);
    const lastBefore = cluster.host(leader).replicaOf(shardId).log.lastIndex();
    const duplicate = { accountId: a, localId: 50n, amount: 30n, requestId: "same-request" };
    const batch = [
      tx({ accountId: a, localId: 10n, amount: 50n }), // 100 -> 150
      tx({ accountId: a, localId: 11n, amount: -1_000n }), // INSUFFICIENT_FUNDS, changes nothing
      tx(duplicate), // 150 -> 180
      tx({ accountId: missing, localId: 1n, amount: 5n }), // NOT_FOUND
      tx(duplicate), // the same request again: the same transaction, not applied twice
      tx({ accountId: a, localId: 12n, amount: -170n }), // sees every write before it: 180 -> 10
    ];
    const host = cluster.host(leader);
    const { results, index } = await host.proposeBatch(host.replicaOf(shardId), batch, Date.now() + 10_000);

    expect(index).toBe(lastBefore + 1);
    expect(cluster.host(leader).replicaOf(shardId).log.lastIndex()).toBe(lastBefore + 1);
    expect(results).toHaveLength(batch.length);
    const [r0, r1, r2, r3, r4, r5] = results as CommandResult[];
    expect(transactionOfResult(r0!).status).toBe(TransactionStatus.SETTLED);
    expect(transactionOfResult(r1!).status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    expect(transactionOfResult(r2!).seq).toBe(transactionOfResult(r4!).seq);
    expect(transactionOfResult(r4!)).toEqual(transactionOfResult(r2!));
    expect(coreErrorOf(r3)).toBe(CoreErrorCode.NOT_FOUND);
    expect(transactionOfResult(r5!).status).toBe(TransactionStatus.SETTLED);

    const replicas = await cluster.waitForConvergence(shardId, index);
    expectSameState(replicas);
    const account = await cluster.proposeOn(leader, shardId, createAccountCommand(testTimestamp, a, ""));
    // CreateAccount of an existing id answers the account as it stands.
    expect(accountOfResult(account.result).settledBalance).toBe(10n);
    // Deposit, +50, the INSUFFICIENT_FUNDS record, the request, -170: five transactions.
    expect(accountOfResult(account.result).transactionCount).toBe(5n);
  });

  it("nodePendingProposalsMax counts commands: a batch beyond it is INVALID_ARGUMENT, and one that would pass it with another in flight RESOURCE_EXHAUSTED, both applied=no", async () => {
    const leader = await leaderOf(shardId);
    const host = cluster.host(leader);
    const replica = host.replicaOf(shardId);
    const a = accountIn(cluster.config, shardId); // no such account: every command is a cheap NOT_FOUND
    const batchOf = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => tx({ accountId: a, localId: BigInt(from + i), amount: 1n }));
    const tooBig = await ledgerRejection(
      host.proposeBatch(replica, batchOf(nodePendingProposalsMax + 1, 0), Date.now() + 10_000),
    );
    expect(tooBig.code).toBe("INVALID_ARGUMENT");
    expect(tooBig.message).toContain("nodePendingProposalsMax");
    expect(tooBig.details.applied).toBe("no");

    const half = Math.ceil(nodePendingProposalsMax * 0.6);
    const first = host.proposeBatch(replica, batchOf(half, 0), Date.now() + 20_000);
    const second = await ledgerRejection(host.proposeBatch(replica, batchOf(half, half), Date.now() + 20_000));
    expect(second.code).toBe("RESOURCE_EXHAUSTED");
    expect(second.message).toContain("nodePendingProposalsMax");
    expect(second.details.applied).toBe("no");
    const { results } = await first;
    expect(results).toHaveLength(half);
    expect(coreErrorOf(results[0])).toBe(CoreErrorCode.NOT_FOUND);
  });

  it("commands that bypass the node's checks are refused one by one at apply on every replica; the rest of their batch applies", async () => {
    const leader = await leaderOf(shardId);
    const a = await newAccount(shardId, leader, 10n);
    const elsewhere = tx({ accountId: accountIn(cluster.config, otherShardId), localId: 1n, amount: 1n });
    const host = cluster.host(leader);
    const { results, index } = await host.proposeBatch(
      host.replicaOf(shardId),
      [
        tx({ accountId: a, localId: 30n, amount: 1n }),
        elsewhere,
        new Uint8Array([0xff, 0xff]),
        tx({ accountId: a, localId: 31n, amount: 2n }),
      ],
      Date.now() + 10_000,
    );
    expect(transactionOfResult(results[0] as CommandResult).amount).toBe(1n);
    for (const refused of [results[1], results[2]]) {
      expect(refused).toBeInstanceOf(Error);
      expect((refused as { code?: string }).code).toBe("INVALID_ARGUMENT");
    }
    expect(transactionOfResult(results[3] as CommandResult).amount).toBe(2n);
    expectSameState(await cluster.waitForConvergence(shardId, index));
  });

  it("a corrupt batch entry in the log is skipped identically on every replica, and the shard keeps applying", async () => {
    const leader = await leaderOf(shardId);
    const a = await newAccount(shardId, leader, 10n);
    const host = cluster.host(leader);
    const replica = host.replicaOf(shardId);
    const lastBefore = replica.log.lastIndex();
    // Version 2, a header, then a count of 3 commands with nothing after it.
    const corrupt = new Uint8Array([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3]);
    host.enqueue(() => replica.raw.propose(corrupt));
    expectSameState(await cluster.waitForConvergence(shardId, lastBefore + 1));
    const after = await host.proposeBatch(
      replica,
      [tx({ accountId: a, localId: 40n, amount: 4n })],
      Date.now() + 10_000,
    );
    expect(after.index).toBe(lastBefore + 2);
    expect(transactionOfResult(after.results[0] as CommandResult).amount).toBe(4n);
    expectSameState(await cluster.waitForConvergence(shardId, after.index));
  });

  it("a follower stopped during batches applies them after its restart, and a restart of every node keeps them: same state everywhere", async () => {
    const leader = await leaderOf(shardId);
    const victim = cluster.nodeIds.find((n) => n !== leader) ?? "";
    const a = await newAccount(shardId, leader, 1_000n);
    await cluster.stopNode(victim);
    let index = 0;
    for (let round = 0; round < 3; round++) {
      const commands = Array.from({ length: 50 }, (_, i) =>
        tx({ accountId: a, localId: BigInt(1_000 + round * 50 + i), amount: i % 2 === 0 ? 3n : -2n }),
      );
      const host = cluster.host(leader);
      ({ index } = await host.proposeBatch(host.replicaOf(shardId), commands, Date.now() + 10_000));
    }
    await cluster.startNode(victim);
    expectSameState(await cluster.waitForConvergence(shardId, index));

    for (const id of cluster.nodeIds) await cluster.stopNode(id);
    for (const id of cluster.nodeIds) await cluster.startNode(id);
    const leaderAfter = await leaderOf(shardId);
    const check = await cluster.proposeOn(leaderAfter, shardId, createAccountCommand(testTimestamp, a, ""));
    // 1,000 + 3 rounds x (25 x 3 - 25 x 2).
    expect(accountOfResult(check.result).settledBalance).toBe(1_075n);
    expectSameState(await cluster.waitForConvergence(shardId, check.index));
  });
});
