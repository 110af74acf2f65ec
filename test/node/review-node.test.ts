// Review R1 of the cluster node (issue 4): tests that demonstrate findings of the correctness
// review. Each test states the behaviour the design promises; at the time of the review each
// one fails, for the reason given in its comment.

import { afterEach, describe, expect, it } from "vitest";
import {
  createAccountCommand,
  createTransactionCommand,
  getAccountQuery,
  listTransactionsQuery,
} from "../../src/gateway/core-requests.js";
import { create } from "@bufbuild/protobuf";
import { CommandSchema, type QueryResult } from "../../src/gen/ledger/core/v1/core_pb.js";
import type { MessagesRequest } from "../../src/gen/ledger/node/v1/node_pb.js";
import type { NodeHost } from "../../src/node/node-host.js";
import { LedgerError } from "../../src/base/errors.js";
import type { SnapshotSink } from "../../src/node/snapshot-transfers.js";
import { MessageType, type Message } from "../../src/raft/types.js";
import { prefixRange } from "../../src/storage/ledger-keys.js";
import { ledgerPrefix } from "../../src/storage/replica-keys.js";
import { messageToProto } from "../../src/transport/raft-codec.js";
import { cleanUpEverything } from "../support/cleanup.js";
import { sendRaftBatch } from "../support/raw-raft.js";
import { InProcessCluster, accountIn, accountOfResult, testTimestamp, waitFor } from "./support/in-process-cluster.js";

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

function replicaIdOn(c: InProcessCluster, shardId: string, nodeId: string): number {
  const r = c.shard(shardId).replicas.find((x) => x.nodeId === nodeId);
  if (r === undefined) throw new Error(`${nodeId} hosts no replica of ${shardId}`);
  return r.id;
}

async function depositAccount(
  c: InProcessCluster,
  shardId: string,
  leader: string,
): Promise<{ accountId: bigint; index: number }> {
  const accountId = accountIn(c.config, shardId);
  await c.proposeOn(leader, shardId, createAccountCommand(testTimestamp, accountId, ""));
  const { index } = await c.proposeOn(
    leader,
    shardId,
    createTransactionCommand(testTimestamp, {
      accountId,
      localId: 1n,
      amount: 500n,
      description: "d",
      settled: true,
      requestId: "",
    }),
  );
  return { accountId, index };
}

/** Sends one MessagesRequest on a fresh RaftTransportService/Messages stream, as a peer would. */
async function sendRawBatch(address: string, request: MessagesRequest): Promise<void> {
  await sendRaftBatch(address, request);
}

describe("review R1: node correctness", () => {
  // Finding 1 (peer input validation). NodeHost.deliver (node-host.ts 237-258) accepts any
  // MessageType from the Messages stream, including Snapshot, whose data is supposed to travel
  // only on InstallSnapshot. Raft restores it, and Replica.persistAndApply (replica.ts 115-117)
  // throws "Raft installs snapshot ... but no data was staged" inside the loop turn: the loop
  // reports a fatal error (cmd/node.ts exits the process) and the replica keeps an outstanding
  // Ready forever. peer-server.ts promises "a malformed peer never crashes us".
  it("a Snapshot message on the peer message stream is dropped; the node loop keeps running and the replica keeps applying", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const victim = c.nodeIds.find((id) => id !== leader) ?? "";
    const first = await depositAccount(c, shardId, leader);
    await c.waitForConvergence(shardId, first.index);
    const term = (await c.shardSummaries(shardId, false)).get(victim)?.term ?? 0;

    const bogus: Message = {
      type: MessageType.Snapshot,
      to: replicaIdOn(c, shardId, victim),
      from: replicaIdOn(c, shardId, leader),
      term,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      snapshot: {
        metadata: {
          index: first.index + 1000,
          term,
          confState: { voters: c.shard(shardId).replicas.map((r) => r.id), learners: [] },
        },
        data: new Uint8Array(0),
      },
      reject: false,
      rejectHint: 0,
      hintTerm: 0,
      context: new Uint8Array(0),
    };
    await sendRawBatch(c.member(victim).address, {
      $typeName: "ledger.node.v1.MessagesRequest",
      fromNodeId: leader,
      configVersion: c.config.version,
      messages: [{ $typeName: "ledger.node.v1.ShardMessage", shardId, message: messageToProto(bogus) }],
    });

    const second = await depositAccount(c, shardId, leader);
    // Either the victim applies the next write, or its loop reported a fatal error.
    await waitFor("the victim to apply the next write or its loop to fail", undefined, async () => {
      if (c.fatalErrors.length > 0) return true;
      const s = (await c.shardSummaries(shardId, false)).get(victim);
      return s !== undefined && s.appliedIndex >= second.index ? true : undefined;
    });
    expect(c.fatalErrors.map((f) => `${f.nodeId}: ${String(f.error)}`)).toEqual([]);
  });

  // Finding 2 (ReadIndex contexts are not unique). node-host.ts 484-487 builds the context from
  // a per-process counter starting at 1 (nextReadContext, line 85) with no node id or epoch, so
  // the leader's own reads and every follower's reads use the same context values. The leader's
  // ReadOnly drops a request whose context is already pending (step-leader.ts 106-111), so a
  // follower's read that collides with a pending read of the leader is never answered: it fails
  // after readIndexTimeoutMs with UNAVAILABLE. (Across a restart the same reuse can let an old
  // incarnation's pending request answer a new read with an older read index; see the report.)
  it("a follower's linearizable read is answered while the leader has a read of its own pending", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const follower = c.nodeIds.find((id) => id !== leader) ?? "";
    const { accountId, index } = await depositAccount(c, shardId, leader);
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

  // Finding 3 (reads racing a snapshot install). A read takes replica.store (node-host.ts 205
  // for stale reads, 502 for confirmed linearizable ones) and runs asynchronously over several
  // DB calls. If the loop installs a snapshot meanwhile, the old generation's keys are cleared
  // right after the install batch (node-host.ts 374-377) while the read is still using the old
  // store: the read sees a partly or fully deleted state and answers NOT_FOUND for an account
  // that exists before and after (or trips the "creation index names a missing transaction"
  // assert of a list). Here the read's single db.get is held until the clear has run.
  it("a read that started before a snapshot install answers from a whole state, not from a generation being cleared", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const victim = c.nodeIds.find((id) => id !== leader) ?? "";
    const others = c.nodeIds.filter((id) => id !== victim);
    const { accountId, index } = await depositAccount(c, shardId, leader);
    await c.waitForConvergence(shardId, index);

    // The victim misses some writes and the others compact past them: it needs a snapshot.
    await c.stopNode(victim);
    let last = index;
    for (let i = 0; i < 3; i++) last = (await depositAccount(c, shardId, leader)).index;
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
  // Finding 4 (a poison entry). NodeService.propose (node-service.ts 50-63) checks only that the
  // command bytes are not empty; it never decodes them. A Command with no kind (here: only a
  // timestamp) is appended, committed and applied on every replica, where the core throws
  // AssertionError("a command with no kind reached the core") inside the loop turn
  // (replica.ts 149 -> ledger-store prefetch -> core). Every node's loop fails (cmd/node.ts
  // exits), and on restart each replays the same committed entry and fails again: one call on
  // the internal API stops every shard of every node, for good. Expected: refused up front
  // with INVALID_ARGUMENT (applied=no), nodes unaffected.
  it("a proposal whose command has no kind is refused with INVALID_ARGUMENT and leaves the nodes running", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const first = await depositAccount(c, shardId, leader);
    await c.waitForConvergence(shardId, first.index);

    const refused = await c
      .proposeVia(leader, shardId, create(CommandSchema, { timestamp: testTimestamp }), {
        deadlineMs: Date.now() + 2_000,
      })
      .then(
        () => "accepted",
        (e: unknown) => (e instanceof Error ? `${(e as { code?: string }).code ?? ""}` : String(e)),
      );
    // Give the loops the chance to fail: a later write must be applied everywhere.
    const afterwards = await c
      .proposeOn(
        leader,
        shardId,
        createAccountCommand(testTimestamp, accountIn(c.config, shardId), ""),
        Date.now() + 3_000,
      )
      .then(
        (r) => r.index,
        () => 0,
      );
    expect({
      refused,
      fatal: c.fatalErrors.map((f) => `${f.nodeId}: ${String(f.error)}`),
      afterwardsApplied: afterwards > 0,
    }).toEqual({ refused: "INVALID_ARGUMENT", fatal: [], afterwardsApplied: true });
  });
  // Finding 2b (same root cause as 2, across a restart). The read context counter restarts at 1
  // with the process, so a restarted follower's first ReadIndex carries the same context as its
  // first one before the restart. If the old request is still pending at the leader (its
  // heartbeat acks lost while the follower was down), the leader drops the new one as a
  // duplicate and later answers the OLD request, with the OLD read index, to the new process,
  // which serves its new read at that older index. types.ts (readIndex) and DESIGN.md §6 require
  // a context never to be reused.
  it("a follower never reuses a ReadIndex context across a restart", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    // The preferred replica leads, so leader balancing cannot move leadership between the reads.
    const leader = (await c.waitForLeaders({ preferred: true })).get(shardId) ?? "";
    const follower = c.nodeIds.find((id) => id !== leader) ?? "";
    const { accountId, index } = await depositAccount(c, shardId, leader);
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
});
