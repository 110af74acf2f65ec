// NodeHost in process: three hosts (one per node) over loopback gRPC, each driving one replica
// of every shard. Election and leader placement, proposals and replica convergence, the
// inbound message filter of `deliver`, and reads: ReadIndex contexts and a read racing a
// snapshot install. The write path (group commit, batches): node-host-write-path.test.ts.

import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Message } from "../../src/raft/types.js";
import { MessageType } from "../../src/raft/types.js";
import { NodeHost } from "../../src/node/node-host.js";
import type { SnapshotSink } from "../../src/node/snapshot-transfers.js";
import { LedgerError } from "../../src/base/errors.js";
import { createLogger } from "../../src/base/logger.js";
import {
  createAccountCommand,
  createTransactionCommand,
  getAccountQuery,
  listTransactionsQuery,
} from "../../src/gateway/core-requests.js";
import type { QueryResult } from "../../src/gen/ledger/core/v1/core_pb.js";
import { TransferLeadershipRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { prefixRange } from "../../src/storage/ledger-keys.js";
import { ledgerPrefix } from "../../src/storage/replica-keys.js";
import { cleanUpEverything } from "../support/cleanup.js";
import {
  InProcessCluster,
  accountIn,
  accountOfResult,
  fundedAccount,
  replicaIdOn,
  testTimestamp,
  transactionOfResult,
  waitFor,
} from "./support/in-process-cluster.js";
import { insecureTransport } from "../../src/security/transport-security.js";

describe("NodeHost: a running three-node cluster", () => {
  let cluster: InProcessCluster;

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ shards: 3 });
  });

  afterEach(() => {
    expect(cluster.fatalErrors).toEqual([]);
  });

  afterAll(async () => {
    await cluster?.close();
    await cleanUpEverything();
  });

  it("elects a leader for every shard, and each shard's preferred replica (replicas[shardIndex % 3]) ends up leading", async () => {
    // Normally well under a second: the preferred replica campaigns early, balancing fixes the rest.
    const leaders = await cluster.waitForLeaders({ preferred: true, timeoutMs: 8_000 });
    for (const [i, shard] of cluster.config.shards.entries()) {
      expect(leaders.get(shard.id)).toBe(shard.replicas[i % 3]?.nodeId);
    }
    // With three shards that puts one leader on each node.
    expect(new Set(leaders.values()).size).toBe(3);
    // Every replica of a shard agrees, and exactly one reports itself leader.
    for (const shard of cluster.config.shards) {
      const all = await cluster.shardSummaries(shard.id, false);
      expect(all.size).toBe(3);
      expect([...all.values()].filter((s) => s.role === "leader")).toHaveLength(1);
      expect(new Set([...all.values()].map((s) => s.term)).size).toBe(1);
    }
  });

  it("propose on the leader returns the core's result, and every replica then reaches the same applied index and state hash", async () => {
    const leaders = await cluster.waitForStableLeaders();
    for (const shard of cluster.config.shards) {
      const leader = leaders.get(shard.id) ?? "";
      const accountId = accountIn(cluster.config, shard.id);
      const created = await cluster.proposeOn(
        leader,
        shard.id,
        createAccountCommand(testTimestamp, accountId, `req-${accountId}`),
      );
      const account = accountOfResult(created.result);
      expect(account.id).toBe(accountId);
      expect(account.requestId).toBe(`req-${accountId}`);
      expect(account.createdAt).toBe(testTimestamp);
      expect(created.index).toBeGreaterThan(0);

      const tx = await cluster.proposeOn(
        leader,
        shard.id,
        createTransactionCommand(testTimestamp + 1n, {
          accountId,
          localId: 77n,
          amount: 1_250n,
          description: "deposit",
          settled: true,
          requestId: "",
        }),
      );
      const record = transactionOfResult(tx.result);
      expect(record.accountId).toBe(accountId);
      expect(record.localId).toBe(77n);
      expect(record.amount).toBe(1_250n);
      expect(record.seq).toBe(1n);
      expect(tx.index).toBeGreaterThan(created.index);

      const replicas = await cluster.waitForConvergence(shard.id, tx.index);
      expect(replicas.size).toBe(3);
      const hashes = new Set(
        [...replicas.values()].map((s) => Buffer.from(s.stateHash ?? new Uint8Array(0)).toString("hex")),
      );
      expect(hashes.size).toBe(1);
      expect([...hashes][0]).toMatch(/^[0-9a-f]{64}$/);
      // The hash covers the ledger state: the state with the deposit differs from an empty one.
      const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
      expect([...hashes][0]).not.toBe(emptyHash);
    }
  });

  it("a proposal to a replica that does not lead is refused with NOT_LEADER naming the leader's node", async () => {
    const shard = cluster.config.shards[0];
    if (shard === undefined) throw new Error("no shard");
    const leader = (await cluster.waitForStableLeaders()).get(shard.id) ?? "";
    const follower = cluster.nodeIds.find((id) => id !== leader) ?? "";
    const error = await cluster
      .proposeOn(follower, shard.id, createAccountCommand(testTimestamp, accountIn(cluster.config, shard.id), ""))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: "NOT_LEADER", details: { leader } });
  });

  // Leader balancing checks every leaderBalanceIntervalTicks; a leader that took over at an
  // arbitrary tick must still hand back. Repeated because the tick at which a transfer lands
  // is not under the test's control.
  it("leader balancing hands a shard back to its preferred replica after leadership was moved away, every time", async () => {
    const shard = cluster.config.shards[0];
    if (shard === undefined) throw new Error("no shard");
    const preferred = cluster.preferredLeaderNode(shard.id);
    const others = cluster.nodeIds.filter((id) => id !== preferred);
    await cluster.waitForLeader(shard.id, { on: preferred, timeoutMs: 8_000 });
    for (let round = 0; round < 8; round++) {
      const target = others[round % others.length] ?? "";
      await cluster
        .client(preferred)
        .transferLeadership(create(TransferLeadershipRequestSchema, { shardId: shard.id, toNodeId: target }));
      await cluster.waitForLeader(shard.id, { on: target, timeoutMs: 5_000 });
      // 150 ticks: five balancing intervals.
      await cluster.waitForLeader(shard.id, { on: preferred, timeoutMs: 3_000 }).catch((e: unknown) => {
        throw new Error(`round ${round}: leadership stayed on ${target}: ${String(e)}`);
      });
    }
  });
});

describe("NodeHost.deliver: the inbound message filter", () => {
  const hosts: NodeHost[] = [];

  afterAll(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.close()));
    await cleanUpEverything();
  });

  /** A heartbeat at a higher term: a replica that accepts it adopts that term. */
  function heartbeat(from: number, to: number, term: number): Message {
    return {
      type: MessageType.Heartbeat,
      from,
      to,
      term,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      hintTerm: 0,
      context: new Uint8Array(0),
    };
  }

  async function termsOf(host: NodeHost): Promise<Map<string, number>> {
    return new Map((await host.replicaSummaries(false)).map((s) => [s.shardId, s.term]));
  }

  // The host is opened but not started: no ticks, so no election changes a term behind the
  // test's back; delivered messages are still stepped by the loop.
  async function openIdleHost(): Promise<{ cluster: InProcessCluster; host: NodeHost }> {
    const cluster = await InProcessCluster.create({ shards: 2 });
    const host = await NodeHost.open({
      config: cluster.config,
      nodeId: "node01",
      security: insecureTransport(),
      dataDir: cluster.member("node01").dataDir,
      logger: createLogger({ name: "node01", level: "silent" }),
    });
    hosts.push(host);
    return { cluster, host };
  }

  function replicaOn(cluster: InProcessCluster, shardIndex: number, nodeId: string): number {
    const r = cluster.config.shards[shardIndex]?.replicas.find((x) => x.nodeId === nodeId);
    if (r === undefined) throw new Error(`no replica of shard ${shardIndex} on ${nodeId}`);
    return r.id;
  }

  it("drops messages addressed to another replica or sent from a node that does not host the sender; the replica's term does not change", async () => {
    const { cluster, host } = await openIdleHost();
    const [s0, s1] = cluster.config.shards.map((s) => s.id) as [string, string];
    const mine0 = replicaOn(cluster, 0, "node01");
    const peer0 = replicaOn(cluster, 0, "node02");
    const other0 = replicaOn(cluster, 0, "node03");
    const mine1 = replicaOn(cluster, 1, "node01");
    const peer1 = replicaOn(cluster, 1, "node02");
    const before = await termsOf(host);
    const term0 = before.get(s0) ?? -1;
    const term1 = before.get(s1) ?? -1;

    host.deliver("node02", [
      { shardId: s0, message: heartbeat(peer0, other0, term0 + 5) }, // to a replica that is not on this node
      { shardId: s0, message: heartbeat(peer0, mine1, term0 + 5) }, // to this node's replica of another shard
      { shardId: "no-such-shard", message: heartbeat(peer0, mine0, term0 + 5) },
    ]);
    host.deliver("node03", [{ shardId: s0, message: heartbeat(peer0, mine0, term0 + 5) }]); // sender lives on node02, not node03
    // The control, in the same order: once it has taken effect, the messages above were stepped or dropped.
    host.deliver("node02", [{ shardId: s1, message: heartbeat(peer1, mine1, term1 + 3) }]);

    await waitFor("the control heartbeat to raise shard 1's term", 5_000, async () =>
      (await termsOf(host)).get(s1) === term1 + 3 ? true : undefined,
    );
    expect((await termsOf(host)).get(s0)).toBe(term0);

    // And a well-addressed message does move shard 0's term: the filter, not Raft, dropped the others.
    host.deliver("node02", [{ shardId: s0, message: heartbeat(peer0, mine0, term0 + 5) }]);
    await waitFor("a valid heartbeat to raise shard 0's term", 5_000, async () =>
      (await termsOf(host)).get(s0) === term0 + 5 ? true : undefined,
    );
  });

  it("drops a message whose sender is a replica of another shard, even when its node is the right one", async () => {
    const { cluster, host } = await openIdleHost();
    const [s0, s1] = cluster.config.shards.map((s) => s.id) as [string, string];
    const mine0 = replicaOn(cluster, 0, "node01");
    const mine1 = replicaOn(cluster, 1, "node01");
    const peer1 = replicaOn(cluster, 1, "node02"); // on node02, but a member of shard 1 only
    const before = await termsOf(host);
    const term0 = before.get(s0) ?? -1;
    const term1 = before.get(s1) ?? -1;

    host.deliver("node02", [
      { shardId: s0, message: heartbeat(peer1, mine0, term0 + 5) },
      { shardId: s1, message: heartbeat(peer1, mine1, term1 + 3) }, // control
    ]);
    await waitFor("the control heartbeat to raise shard 1's term", 5_000, async () =>
      (await termsOf(host)).get(s1) === term1 + 3 ? true : undefined,
    );
    const after = (await host.replicaSummaries(false)).find((s) => s.shardId === s0);
    expect(after?.term).toBe(term0);
    expect(after?.leaderReplicaId).toBe(0);
  });
});

describe("NodeHost reads", () => {
  let cluster: InProcessCluster | undefined;

  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    await cleanUpEverything();
  });

  /** A gate a test opens by hand; `reached` resolves when something first waits on it. */
  function gate(): { wait(): Promise<void>; open(): void; reached: Promise<void> } {
    let open!: () => void;
    let reach!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const reached = new Promise<void>((r) => (reach = r));
    return {
      wait: () => {
        reach();
        return opened;
      },
      open: () => open(),
      reached,
    };
  }

  function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
    if (key.length < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
    return true;
  }

  // The leader's ReadOnly drops a request whose context is already pending, so contexts must be
  // unique across nodes: a follower's read carrying the context of a read the leader has pending
  // would never be answered (UNAVAILABLE after readIndexTimeoutMs).
  it("a follower's linearizable read is answered while the leader has a read of its own pending", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const follower = c.nodeIds.find((id) => id !== leader) ?? "";
    const { accountId, index } = await fundedAccount(c, shardId, leader);
    await c.waitForConvergence(shardId, index);

    const leaderHost: NodeHost = c.host(leader);
    const followerReplicaId = replicaIdOn(c, shardId, follower);
    // Hold the leader's own read unconfirmed: heartbeat acks reach it without their context
    // (so CheckQuorum still sees the followers as active) until `held` is cleared.
    let held = true;
    const deliver = leaderHost.deliver.bind(leaderHost);
    leaderHost.deliver = (from, messages) =>
      deliver(
        from,
        messages.map((m) =>
          held && m.message.type === MessageType.HeartbeatResponse
            ? { ...m, message: { ...m.message, context: new Uint8Array(0) } }
            : m,
        ),
      );
    // Notice when the leader's Raft has stepped the follower's forwarded ReadIndex.
    const replica = leaderHost.replicaOf(shardId);
    const step = replica.raw.step.bind(replica.raw);
    const contexts: string[] = [];
    let steppedFollowerRead!: () => void;
    const followerReadStepped = new Promise<void>((r) => (steppedFollowerRead = r));
    replica.raw.step = (m: Message) => {
      step(m);
      if (m.type === MessageType.ReadIndex && m.from === followerReplicaId) {
        contexts.push(Buffer.from(m.context).toString("hex"));
        steppedFollowerRead();
      }
    };

    const deadlineMs = Date.now() + 10_000;
    const onLeader = leaderHost.read(replica, getAccountQuery(accountId), false, deadlineMs);
    const followerHost = c.host(follower);
    const onFollower = followerHost
      .read(followerHost.replicaOf(shardId), getAccountQuery(accountId), false, deadlineMs)
      .then(
        (v) => v,
        (e: unknown) => e,
      );
    await followerReadStepped;
    held = false;

    expect(accountOfResult((await onLeader).result).settledBalance).toBe(500n);
    const answer = await onFollower;
    expect(
      answer instanceof Error
        ? `${answer.message} (follower context ${contexts.join(",")})`
        : accountOfResult((answer as { result: QueryResult }).result).settledBalance,
    ).toBe(500n);
  });

  // Were a context reused by the restarted process while the old incarnation's request is still
  // pending at the leader (its heartbeat acks lost while the follower was down), the leader would
  // drop the new request as a duplicate and answer the old one, with its older read index, to
  // the new process. types.ts (readIndex) and DESIGN.md §6 require a context never to be reused.
  it("a follower never reuses a ReadIndex context across a restart", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    // The preferred replica leads, so leader balancing cannot move leadership between the reads.
    const leader = (await c.waitForLeaders({ preferred: true })).get(shardId) ?? "";
    const follower = c.nodeIds.find((id) => id !== leader) ?? "";
    const { accountId, index } = await fundedAccount(c, shardId, leader);
    await c.waitForConvergence(shardId, index);

    const replica = c.host(leader).replicaOf(shardId);
    const followerReplicaId = replicaIdOn(c, shardId, follower);
    const step = replica.raw.step.bind(replica.raw);
    const contexts: string[] = [];
    replica.raw.step = (m: Message) => {
      if (m.type === MessageType.ReadIndex && m.from === followerReplicaId)
        contexts.push(Buffer.from(m.context).toString("hex"));
      step(m);
    };
    // As a client would, retry a read refused with UNAVAILABLE (e.g. right after the restart,
    // before the follower's stream to the leader is up); every attempt uses a fresh context.
    const readOnFollower = async () => {
      for (let attempt = 1; ; attempt++) {
        const h = c.host(follower);
        try {
          return accountOfResult(
            (await h.read(h.replicaOf(shardId), getAccountQuery(accountId), false, Date.now() + 5_000)).result,
          ).settledBalance;
        } catch (e) {
          if (!(e instanceof LedgerError) || e.code !== "UNAVAILABLE" || attempt >= 5) throw e;
        }
      }
    };

    expect(await readOnFollower()).toBe(500n);
    await c.restartNode(follower);
    await c.waitForLeader(shardId, { on: leader });
    expect(await readOnFollower()).toBe(500n);
    expect(contexts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(contexts).size, `contexts seen by the leader: ${contexts.join(", ")}`).toBe(contexts.length);
  });

  // A read takes the replica's store and runs over several DB calls, while the loop may install a
  // snapshot and clear the old generation's keys right after the install batch: read from the
  // store being cleared, it would see a partly deleted state (NOT_FOUND for an account that exists
  // before and after, or a list naming a missing transaction). Here the read's DB multi-get is
  // held until the clear has run.
  it("a read that started before a snapshot install answers from a whole state, not from a generation being cleared", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const victim = c.nodeIds.find((id) => id !== leader) ?? "";
    const others = c.nodeIds.filter((id) => id !== victim);
    const { accountId, index } = await fundedAccount(c, shardId, leader);
    await c.waitForConvergence(shardId, index);

    // The victim misses some writes and the others compact past them: it needs a snapshot.
    await c.stopNode(victim);
    let last = index;
    for (let i = 0; i < 3; i++) last = (await fundedAccount(c, shardId, leader)).index;
    await c.waitForConvergence(shardId, last, { nodes: others });
    for (const nodeId of others) await c.host(nodeId).triggerSnapshot(c.host(nodeId).replicaOf(shardId));

    const host = await c.startNode(victim);
    // Hold the snapshot's hand-over to the loop until the read below is under way.
    const commitGate = gate();
    const begin = host.snapshots.begin.bind(host.snapshots);
    host.snapshots.begin = (from, shard, message): SnapshotSink => {
      const sink = begin(from, shard, message);
      return {
        ...sink,
        commit: async () => {
          await commitGate.wait();
          return sink.commit();
        },
      };
    };
    // Hold the read's DB multi-get of the old generation (0) until that generation has been
    // cleared. (Point reads are synchronous and so cannot interleave with the clear; a page of
    // transactions is read asynchronously, after the account record, and can.)
    const oldPrefix = ledgerPrefix(replicaIdOn(c, shardId, victim), 0);
    const getGate = gate();
    const db = host.db;
    type GetMany = (keys: Uint8Array[], options?: object) => Promise<(Uint8Array | undefined)[]>;
    const getMany = db.getMany.bind(db) as GetMany;
    (db as unknown as { getMany: GetMany }).getMany = async (keys, options) => {
      if (keys.some((key) => startsWith(key, oldPrefix))) await getGate.wait();
      return getMany(keys, options);
    };

    await commitGate.reached;
    const replica = host.replicaOf(shardId);
    expect(replica.caughtUp).toBe(true);
    expect(replica.log.generation()).toBe(0);
    const read = host.read(replica, listTransactionsQuery(accountId, 0n, 10), true, Date.now() + 10_000);
    await getGate.reached;

    commitGate.open();
    await waitFor("the snapshot install and the clear of generation 0", undefined, async () => {
      if (replica.log.generation() === 0) return undefined;
      const left = await db.keys({ ...prefixRange(oldPrefix), limit: 1 }).all();
      return left.length === 0 ? true : undefined;
    });
    getGate.open();

    const { result } = await read;
    expect(
      result.kind.case === "error"
        ? `error: ${result.kind.value.message}`
        : result.kind.case === "page"
          ? result.kind.value.transactions.map((t) => t.amount)
          : result.kind.case,
    ).toEqual([500n]);
    expect(c.fatalErrors).toEqual([]);
  });
});
