// NodeHost across stops and restarts: replay after a restart, log compaction on request, catch-up
// by snapshot install (and that the installed state survives another restart), and bounded
// failure when a node is left without a quorum.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { descriptionBytesMax } from "../../src/ledger/limits.js";
import { snapshotChunkBytesMax } from "../../src/transport/limits.js";
import { createAccountCommand, createTransactionCommand, getAccountQuery } from "../../src/gateway/core-requests.js";
import { QueryResultSchema, QuerySchema } from "../../src/gen/ledger/core/v1/core_pb.js";
import {
  ReadConsistency,
  ReadRequestSchema,
  TransferLeadershipRequestSchema,
  TriggerSnapshotRequestSchema,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import type { ReplicaSummary } from "../../src/node/node-host.js";
import { clusterPerTest } from "./support/cluster-per-test.js";
import {
  type InProcessCluster,
  accountIn,
  accountOfResult,
  testTimestamp,
  waitFor,
} from "./support/in-process-cluster.js";

const startCluster = clusterPerTest();

const hex = (s: ReplicaSummary | undefined) => Buffer.from(s?.stateHash ?? new Uint8Array(0)).toString("hex");

/** Creates `count` accounts with one settled deposit each through the shard's leader; returns the ids and the last index. */
async function writeSome(
  c: InProcessCluster,
  shardId: string,
  leader: string,
  count: number,
): Promise<{ accounts: bigint[]; lastIndex: number }> {
  const accounts: bigint[] = [];
  let lastIndex = 0;
  for (let i = 0; i < count; i++) {
    const accountId = accountIn(c.config, shardId);
    await c.proposeVia(leader, shardId, createAccountCommand(testTimestamp, accountId, ""));
    const { index } = await c.proposeVia(
      leader,
      shardId,
      createTransactionCommand(testTimestamp + 1n, {
        accountId,
        localId: 1n,
        amount: 500n,
        description: "d",
        settled: true,
        requestId: "",
      }),
    );
    accounts.push(accountId);
    lastIndex = index;
  }
  return { accounts, lastIndex };
}

async function staleBalance(c: InProcessCluster, nodeId: string, shardId: string, accountId: bigint): Promise<bigint> {
  const response = await c.client(nodeId).read(
    create(ReadRequestSchema, {
      shardId,
      query: toBinary(QuerySchema, getAccountQuery(accountId)),
      consistency: ReadConsistency.STALE,
    }),
  );
  return accountOfResult(fromBinary(QueryResultSchema, response.result)).settledBalance;
}

/**
 * One shard; a follower (the victim) is stopped while the others take a big state and compact
 * their logs past everything it has: it can only catch up by snapshot install.
 */
async function followerBehindCompaction(
  c: InProcessCluster,
  perAccount: number,
): Promise<{ shardId: string; victim: string; accounts: bigint[]; lastIndex: number }> {
  const shardId = c.config.shards[0]?.id ?? "";
  const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
  const victim = c.nodeIds.find((id) => id !== leader) ?? "";
  const others = c.nodeIds.filter((id) => id !== victim);
  await c.stopNode(victim);
  const { accounts, lastIndex } = await writeBigState(c, shardId, leader, perAccount);
  await c.waitForConvergence(shardId, lastIndex, { nodes: others });
  for (const nodeId of others)
    await c.client(nodeId).triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId }));
  return { shardId, victim, accounts, lastIndex };
}

/** Writes more than two snapshot chunks of state on the shard's leader; returns the accounts and last index. */
async function writeBigState(
  c: InProcessCluster,
  shardId: string,
  leader: string,
  perAccount: number,
): Promise<{ accounts: bigint[]; lastIndex: number }> {
  const accounts = Array.from({ length: 10 }, () => accountIn(c.config, shardId));
  await Promise.all(
    accounts.map((accountId) => c.proposeOn(leader, shardId, createAccountCommand(testTimestamp, accountId, ""))),
  );
  const description = "x".repeat(descriptionBytesMax);
  let lastIndex = 0;
  for (let n = 1; n <= perAccount; n += 20) {
    const batch = [];
    for (let k = n; k < n + 20 && k <= perAccount; k++) {
      for (const accountId of accounts) {
        batch.push(
          c.proposeOn(
            leader,
            shardId,
            createTransactionCommand(testTimestamp, {
              accountId,
              localId: BigInt(k),
              amount: 1n,
              description,
              settled: true,
              requestId: "",
            }),
          ),
        );
      }
    }
    for (const r of await Promise.all(batch)) lastIndex = Math.max(lastIndex, r.index);
  }
  return { accounts, lastIndex };
}

async function linearizableBalance(
  c: InProcessCluster,
  nodeId: string,
  shardId: string,
  accountId: bigint,
): Promise<bigint> {
  const response = await c.client(nodeId).read(
    create(ReadRequestSchema, {
      shardId,
      query: toBinary(QuerySchema, getAccountQuery(accountId)),
      consistency: ReadConsistency.LINEARIZABLE,
    }),
  );
  return accountOfResult(fromBinary(QueryResultSchema, response.result)).settledBalance;
}

function expectSameState(replicas: Map<string, ReplicaSummary>): void {
  expect(replicas.size).toBe(3);
  const hashes = new Set([...replicas.values()].map(hex));
  expect(
    hashes.size,
    JSON.stringify(Object.fromEntries([...replicas].map(([n, s]) => [n, { applied: s.appliedIndex, hash: hex(s) }]))),
  ).toBe(1);
}

describe("NodeHost recovery", () => {
  it("after a restart, a host's replicas reload their applied index, report caught_up and hold the same state as the others", async () => {
    const c = await startCluster({ shards: 2 });
    const leaders = await c.waitForStableLeaders();
    const victim = "node02";
    const written = new Map<string, { accounts: bigint[]; lastIndex: number }>();
    for (const shard of c.config.shards) {
      const w = await writeSome(c, shard.id, leaders.get(shard.id) ?? "", 3);
      written.set(shard.id, w);
      await c.waitForConvergence(shard.id, w.lastIndex);
    }
    const before = new Map((await c.host(victim).replicaSummaries(false)).map((s) => [s.shardId, s]));

    await c.stopNode(victim);
    const host = await c.startNode(victim);
    const reopened = new Map((await host.replicaSummaries(false)).map((s) => [s.shardId, s]));
    for (const shard of c.config.shards) {
      // Applied index and log come from disk, not from the peers.
      expect(reopened.get(shard.id)?.appliedIndex).toBe(before.get(shard.id)?.appliedIndex);
      expect(reopened.get(shard.id)?.lastIndex).toBeGreaterThanOrEqual(before.get(shard.id)?.appliedIndex ?? Infinity);
    }

    // Leader balancing may hand a shard back to the victim once it has caught up: let it settle.
    const leadersAfter = await c.waitForStableLeaders();
    for (const shard of c.config.shards) {
      const w = written.get(shard.id);
      if (w === undefined) throw new Error("nothing written");
      const leader = leadersAfter.get(shard.id) ?? "";
      // One more write after the restart so every replica has something new to apply.
      const more = await writeSome(c, shard.id, leader, 1);
      const replicas = await c.waitForConvergence(shard.id, more.lastIndex);
      expect(replicas.get(victim)?.caughtUp).toBe(true);
      expectSameState(replicas);
      for (const accountId of [...w.accounts, ...more.accounts])
        expect(await staleBalance(c, victim, shard.id, accountId)).toBe(500n);
    }
  });

  it("TriggerSnapshot compacts the log to the applied index; a host that was down catches up by snapshot install and keeps that state across a restart", async () => {
    const c = await startCluster({ shards: 2 });
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const victim = c.nodeIds.find((id) => id !== leader) ?? "";
    const others = c.nodeIds.filter((id) => id !== victim);
    const early = await writeSome(c, shardId, leader, 2);
    await c.waitForConvergence(shardId, early.lastIndex);

    await c.stopNode(victim);
    const whileDown = await writeSome(c, shardId, leader, 5);
    await c.waitForConvergence(shardId, whileDown.lastIndex, { nodes: others });
    for (const nodeId of others) {
      const response = await c.client(nodeId).triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId }));
      const index = Number(response.index);
      const s = (await c.shardSummaries(shardId, false)).get(nodeId);
      expect(index).toBe(whileDown.lastIndex);
      expect(s?.snapshotIndex).toBe(index);
      expect(s?.appliedIndex).toBe(index);
    }
    // Entries after the compaction point travel in the log, after the snapshot.
    const afterSnapshot = await writeSome(c, shardId, leader, 1);

    await c.startNode(victim);
    const replicas = await c.waitForConvergence(shardId, afterSnapshot.lastIndex);
    expectSameState(replicas);
    const installed = replicas.get(victim);
    expect(installed?.snapshotIndex).toBeGreaterThan(early.lastIndex);
    expect(installed?.caughtUp).toBe(true);
    for (const accountId of [...early.accounts, ...whileDown.accounts, ...afterSnapshot.accounts])
      expect(await staleBalance(c, victim, shardId, accountId)).toBe(500n);
    // The other shard, untouched by snapshots, caught up from the log.
    const otherShard = c.config.shards[1]?.id ?? "";
    const otherSummaries = await c.shardSummaries(otherShard, false);
    expectSameState(
      await c.waitForConvergence(otherShard, Math.max(...[...otherSummaries.values()].map((s) => s.commitIndex))),
    );

    // Restart the host that installed the snapshot: its state comes from disk under the new
    // generation, identical before any peer talks to it.
    await c.stopNode(victim);
    const host = await c.startNode(victim);
    const reopened = (await host.replicaSummaries(true)).find((s) => s.shardId === shardId);
    expect(reopened?.appliedIndex).toBe(installed?.appliedIndex);
    expect(reopened?.snapshotIndex).toBe(installed?.snapshotIndex);
    expect(hex(reopened)).toBe(hex(installed));
    for (const accountId of [...early.accounts, ...whileDown.accounts])
      expect(await staleBalance(c, victim, shardId, accountId)).toBe(500n);
  });

  it("with two hosts stopped, proposals on the last one fail within their deadline with UNAVAILABLE or DEADLINE_EXCEEDED, and succeed once a host returns", async () => {
    const c = await startCluster({ shards: 3 });
    // The survivor leads one shard (and, with three shards, usually not all of them).
    const leaders = await c.waitForStableLeaders();
    const [ledHere, survivor] = [...leaders][0] ?? ["", ""];
    const stopped = c.nodeIds.filter((id) => id !== survivor);

    await Promise.all(stopped.map((id) => c.stopNode(id)));
    const deadlineSlackMs = 1_000;
    const callMs = 2_000;
    // Straight into the replica that still believes it leads: the entry is appended but can never commit.
    const directStart = Date.now();
    const direct = await c
      .proposeOn(
        survivor,
        ledHere,
        createAccountCommand(testTimestamp, accountIn(c.config, ledHere), ""),
        directStart + callMs,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(direct).toBeInstanceOf(LedgerError);
    expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"]).toContain((direct as LedgerError).code);
    expect((direct as LedgerError).message).toMatch(/outcome is unknown|not applied/);
    expect(Date.now() - directStart).toBeLessThan(callMs + deadlineSlackMs);

    // Through NodeService, for every shard: led here, or led by a node that is gone.
    await Promise.all(
      c.config.shards.map(async (shard) => {
        const started = Date.now();
        const e = await c
          .proposeVia(survivor, shard.id, createAccountCommand(testTimestamp, accountIn(c.config, shard.id), ""), {
            deadlineMs: started + callMs,
          })
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        expect(e, shard.id).toBeInstanceOf(LedgerError);
        expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"], shard.id).toContain((e as LedgerError).code);
        expect(Date.now() - started, shard.id).toBeLessThan(callMs + deadlineSlackMs);
      }),
    );

    // Linearizable reads cannot be confirmed either: they fail within their deadline too.
    await Promise.all(
      c.config.shards.map(async (shard) => {
        const started = Date.now();
        const read = c.client(survivor).read(
          create(ReadRequestSchema, {
            shardId: shard.id,
            query: toBinary(QuerySchema, getAccountQuery(accountIn(c.config, shard.id))),
            consistency: ReadConsistency.LINEARIZABLE,
          }),
          { deadlineMs: started + callMs },
        );
        const e = await read.then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e, shard.id).toBeInstanceOf(LedgerError);
        expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"], shard.id).toContain((e as LedgerError).code);
        expect(Date.now() - started, shard.id).toBeLessThan(callMs + deadlineSlackMs);
      }),
    );

    await c.startNode(stopped[0] ?? "");
    const leader = await c.waitForLeader(ledHere);
    const applied = await waitFor(`a write to ${ledHere} after ${stopped[0]} returned`, 10_000, () =>
      c.proposeVia(leader, ledHere, createAccountCommand(testTimestamp, accountIn(c.config, ledHere), "back")).then(
        (r) => r,
        () => undefined,
      ),
    );
    expect(accountOfResult(applied.result).requestId).toBe("back");
  });

  it("a replica that installed two snapshots in turn holds the latest state, also after a restart", async () => {
    const c = await startCluster({ shards: 1 });
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const victim = c.nodeIds.find((id) => id !== leader) ?? "";
    const others = c.nodeIds.filter((id) => id !== victim);
    const accounts: bigint[] = [];
    let installedAt = 0;
    for (let round = 1; round <= 2; round++) {
      await c.stopNode(victim);
      const w = await writeSome(c, shardId, leader, 2);
      accounts.push(...w.accounts);
      await c.waitForConvergence(shardId, w.lastIndex, { nodes: others });
      for (const nodeId of others)
        await c.client(nodeId).triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId }));
      await c.startNode(victim);
      const replicas = await c.waitForConvergence(shardId, w.lastIndex);
      expectSameState(replicas);
      const snapshotIndex = replicas.get(victim)?.snapshotIndex ?? 0;
      expect(snapshotIndex, `round ${round}`).toBeGreaterThan(installedAt);
      installedAt = snapshotIndex;
    }
    const before = (await c.shardSummaries(shardId, true)).get(victim);
    await c.stopNode(victim);
    const reopened = (await (await c.startNode(victim)).replicaSummaries(true)).find((s) => s.shardId === shardId);
    expect(reopened?.appliedIndex).toBe(before?.appliedIndex);
    expect(reopened?.snapshotIndex).toBe(installedAt);
    expect(hex(reopened)).toBe(hex(before));
    for (const accountId of accounts) expect(await staleBalance(c, victim, shardId, accountId)).toBe(500n);
  });

  it("TriggerSnapshot with nothing applied since the last one returns the same index; a host restarted after compacting its own log reloads and keeps applying", async () => {
    const c = await startCluster({ shards: 1 });
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const follower = c.nodeIds.find((id) => id !== leader) ?? "";
    const first = await writeSome(c, shardId, leader, 3);
    await c.waitForConvergence(shardId, first.lastIndex);
    const a = Number(
      (await c.client(follower).triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId }))).index,
    );
    const b = Number(
      (await c.client(follower).triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId }))).index,
    );
    expect(a).toBe(first.lastIndex);
    expect(b).toBe(a);

    const before = (await c.shardSummaries(shardId, true)).get(follower);
    expect(before?.snapshotIndex).toBe(a);
    await c.stopNode(follower);
    const reopened = (await (await c.startNode(follower)).replicaSummaries(true)).find((s) => s.shardId === shardId);
    expect(reopened?.snapshotIndex).toBe(a);
    expect(reopened?.appliedIndex).toBe(a);
    expect(reopened?.lastIndex).toBe(before?.lastIndex);
    expect(hex(reopened)).toBe(hex(before));

    const more = await writeSome(c, shardId, leader, 2);
    expectSameState(await c.waitForConvergence(shardId, more.lastIndex));
    for (const accountId of [...first.accounts, ...more.accounts])
      expect(await staleBalance(c, follower, shardId, accountId)).toBe(500n);
  });

  it("TransferLeadership hands a shard to the named node, asked of the leader or of a follower; the new leader serves proposals and linearizable reads see earlier writes", async () => {
    const c = await startCluster({ shards: 1 });
    const shardId = c.config.shards[0]?.id ?? "";
    const preferred = c.preferredLeaderNode(shardId);
    await c.waitForLeader(shardId);
    // With the preferred node down, leader balancing cannot take the shard elsewhere during the test.
    await c.stopNode(preferred);
    const interim = await c.waitForLeader(shardId);
    const target = c.nodeIds.find((id) => id !== preferred && id !== interim) ?? "";
    const before = await writeSome(c, shardId, interim, 2);

    await c.client(interim).transferLeadership(create(TransferLeadershipRequestSchema, { shardId, toNodeId: target }));
    await c.waitForLeader(shardId, { on: target, timeoutMs: 5_000 });
    for (const accountId of before.accounts)
      expect(await linearizableBalance(c, target, shardId, accountId)).toBe(500n);
    const { result } = await c.proposeVia(
      target,
      shardId,
      createAccountCommand(testTimestamp, accountIn(c.config, shardId), "moved"),
    );
    expect(accountOfResult(result).requestId).toBe("moved");

    // Asked of the follower: Raft forwards the request to the leader.
    const during = await writeSome(c, shardId, target, 1);
    await c.client(interim).transferLeadership(create(TransferLeadershipRequestSchema, { shardId, toNodeId: interim }));
    await c.waitForLeader(shardId, { on: interim, timeoutMs: 5_000 });
    for (const accountId of [...before.accounts, ...during.accounts])
      expect(await linearizableBalance(c, interim, shardId, accountId)).toBe(500n);
  });

  it("a snapshot larger than several transfer chunks installs intact", async () => {
    const c = await startCluster({ shards: 1 });
    const perAccount = 220;
    // The descriptions alone (10 accounts) are more than two chunks.
    expect(10 * perAccount * descriptionBytesMax).toBeGreaterThan(2 * snapshotChunkBytesMax);
    const { shardId, victim, accounts, lastIndex } = await followerBehindCompaction(c, perAccount);

    await c.startNode(victim);
    const replicas = await c.waitForConvergence(shardId, lastIndex, { timeoutMs: 30_000 });
    expectSameState(replicas);
    expect(replicas.get(victim)?.snapshotIndex).toBe(lastIndex);
    for (const accountId of accounts)
      expect(await staleBalance(c, victim, shardId, accountId)).toBe(BigInt(perAccount));
  });

  it("a host stopped while it receives a snapshot starts again cleanly and then installs one", async () => {
    const c = await startCluster({ shards: 1 });
    const { shardId, victim, accounts, lastIndex } = await followerBehindCompaction(c, 220);

    // Stop the victim once the first chunk of the incoming snapshot is on its disk.
    const host = await c.startNode(victim);
    const begin = host.snapshots.begin.bind(host.snapshots);
    const firstChunk = new Promise<void>((resolve) => {
      host.snapshots.begin = (fromNodeId, shard, message) => {
        const sink = begin(fromNodeId, shard, message);
        return {
          ...sink,
          write: async (pairs) => {
            await sink.write(pairs);
            resolve();
          },
        };
      };
    });
    await firstChunk;
    await c.stopNode(victim);
    const stoppedMidway = (await c.startNode(victim).then((h) => h.replicaSummaries(false))).find(
      (s) => s.shardId === shardId,
    );
    expect(stoppedMidway?.snapshotIndex).toBe(0);

    const replicas = await c.waitForConvergence(shardId, lastIndex, { timeoutMs: 30_000 });
    expectSameState(replicas);
    expect(replicas.get(victim)?.snapshotIndex).toBe(lastIndex);
    for (const accountId of accounts) expect(await staleBalance(c, victim, shardId, accountId)).toBe(220n);
  });

  it("closing a host fails the proposals it still waits on with UNAVAILABLE (outcome unknown) instead of leaving them hanging", async () => {
    const c = await startCluster({ shards: 1 });
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    // Without its followers the leader appends but cannot commit: the proposals stay pending.
    await Promise.all(c.nodeIds.filter((id) => id !== leader).map((id) => c.stopNode(id)));
    const pending = Array.from({ length: 5 }, () =>
      c
        .proposeOn(
          leader,
          shardId,
          createAccountCommand(testTimestamp, accountIn(c.config, shardId), ""),
          Date.now() + 60_000,
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    const started = Date.now();
    await c.stopNode(leader);
    const errors = await Promise.all(pending);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const e of errors) {
      expect(e).toBeInstanceOf(LedgerError);
      expect((e as LedgerError).code).toBe("UNAVAILABLE");
      expect((e as LedgerError).message).toMatch(/outcome is unknown|not applied/);
    }
  });
});
