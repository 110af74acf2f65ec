// Peer input that can never corrupt or stop a replica, and one set of command rules
// for the public and the internal path. Each test replays an attack on three in-process nodes
// with a plain gRPC client (as a broken or hostile peer would send it) and checks the shard
// afterwards: it still has a leader, and what was written before is still on every replica.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ChannelCredentials, Client, Metadata } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  commandTimestampAheadMsMax,
  commandTimestampBehindMsMax,
  descriptionBytesMax,
  requestIdCharsMax,
} from "../../src/ledger/limits.js";
import {
  createAccountCommand,
  createTransactionCommand,
  getAccountQuery,
  getTransactionQuery,
} from "../../src/gateway/core-requests.js";
import {
  CommandSchema,
  CreateTransactionSchema,
  QueryResultSchema,
  QuerySchema,
  type Command,
  type QueryResult,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import {
  InstallSnapshotRequestSchema,
  InstallSnapshotResponseSchema,
  ProposeRequestSchema,
  RaftTransportService,
  ReadConsistency,
  ReadRequestSchema,
  TransferLeadershipRequestSchema,
  type InstallSnapshotRequest,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import { newMessage } from "../../src/raft/messages.js";
import { MessageType, type Message } from "../../src/raft/types.js";
import { channelOptions, methodPath } from "../../src/transport/grpc-service.js";
import { messageToProto } from "../../src/transport/raft-codec.js";
import { SnapshotDigest } from "../../src/transport/snapshot-format.js";
import { fromServiceError } from "../../src/transport/status.js";
import { cleanUpEverything } from "../support/cleanup.js";
import { sendRaftBatch } from "../support/raw-raft.js";
import { ledgerRejection } from "../support/rejection.js";
import {
  InProcessCluster,
  accountIn,
  accountOfResult,
  replicaIdOn,
  testTimestamp,
  waitFor,
} from "./support/in-process-cluster.js";

let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  await cleanUpEverything();
});

interface Shard {
  c: InProcessCluster;
  shardId: string;
  leader: string;
  follower: string;
}

async function oneShard(): Promise<Shard> {
  const c = (cluster = await InProcessCluster.start({ shards: 1 }));
  const shardId = c.config.shards[0]?.id ?? "";
  const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
  const follower = c.nodeIds.find((id) => id !== leader) ?? "";
  return { c, shardId, leader, follower };
}

/** Accounts with a settled deposit each; returns them and the index of the last write. */
async function deposits(s: Shard, count: number): Promise<{ accounts: bigint[]; index: number }> {
  const accounts: bigint[] = [];
  let index = 0;
  for (let i = 0; i < count; i++) {
    const accountId = accountIn(s.c.config, s.shardId);
    await s.c.proposeOn(s.leader, s.shardId, createAccountCommand(testTimestamp, accountId, ""));
    ({ index } = await s.c.proposeOn(
      s.leader,
      s.shardId,
      createTransactionCommand(testTimestamp, {
        accountId,
        localId: 1n,
        amount: 500n,
        description: "d",
        settled: true,
        requestId: "",
      }),
    ));
    accounts.push(accountId);
  }
  return { accounts, index };
}

/** Each running replica's own (stale) answer for every account: balances as written. */
async function expectOnEveryReplica(s: Shard, accounts: readonly bigint[]): Promise<void> {
  for (const nodeId of s.c.running()) {
    const host = s.c.host(nodeId);
    for (const accountId of accounts) {
      const { result } = await host.read(
        host.replicaOf(s.shardId),
        getAccountQuery(accountId),
        true,
        Date.now() + 5_000,
      );
      const found =
        result.kind.case === "account"
          ? result.kind.value.settledBalance
          : `${result.kind.case}: ${result.kind.case === "error" ? result.kind.value.message : ""}`;
      expect(found, `account ${accountId.toString(16)} on ${nodeId}`).toBe(500n);
    }
  }
}

function termOf(s: Shard, nodeId: string): number {
  return s.c.host(nodeId).replicaOf(s.shardId).raw.status().hardState.term;
}

function refusedOn(s: Shard, nodeId: string) {
  return s.c.host(nodeId).replicaOf(s.shardId).raw.status().refused;
}

/** A message from `from`'s replica to `to`'s replica of the shard, as a peer would build it. */
function peerMessage(s: Shard, type: MessageType, from: string, to: string, term: number): Message {
  return newMessage(type, replicaIdOn(s.c, s.shardId, from), replicaIdOn(s.c, s.shardId, to), term);
}

/** Sends one batch on a fresh RaftTransportService/Messages stream to `to`, claiming to be `from`. */
async function sendRawBatch(s: Shard, from: string, to: string, message: Message): Promise<void> {
  await sendRaftBatch(s.c.member(to).address, {
    $typeName: "ledger.node.v1.MessagesRequest",
    fromNodeId: from,
    configVersion: s.c.config.version,
    messages: [{ $typeName: "ledger.node.v1.ShardMessage", shardId: s.shardId, message: messageToProto(message) }],
  });
}

/** An InstallSnapshot stream to `to` claiming to come from `from`: header, one chunk of `pairs` (if any), a matching trailer. */
async function sendRawSnapshot(
  s: Shard,
  from: string,
  to: string,
  message: Message,
  pairs: { key: Uint8Array; value: Uint8Array }[],
): Promise<void> {
  const client = new Client(s.c.member(to).address, ChannelCredentials.createInsecure(), channelOptions);
  const serialize = (m: InstallSnapshotRequest) => Buffer.from(toBinary(InstallSnapshotRequestSchema, m));
  try {
    await new Promise<void>((resolve, reject) => {
      const call = client.makeClientStreamRequest(
        methodPath(RaftTransportService.method.installSnapshot),
        serialize,
        (b: Buffer) => fromBinary(InstallSnapshotResponseSchema, b),
        new Metadata(),
        { deadline: new Date(Date.now() + 10_000) },
        (err) => (err ? reject(fromServiceError(err)) : resolve()),
      );
      const digest = new SnapshotDigest();
      for (const p of pairs) digest.add(p);
      call.write(
        create(InstallSnapshotRequestSchema, {
          kind: {
            case: "header",
            value: {
              fromNodeId: from,
              configVersion: s.c.config.version,
              shardId: s.shardId,
              message: messageToProto(message),
            },
          },
        }),
      );
      if (pairs.length > 0)
        call.write(create(InstallSnapshotRequestSchema, { kind: { case: "chunk", value: { pairs } } }));
      call.write(
        create(InstallSnapshotRequestSchema, {
          kind: { case: "trailer", value: { pairCount: BigInt(pairs.length), sha256: digest.finish() } },
        }),
      );
      call.end();
    });
  } finally {
    client.close();
  }
}

/** A forged Snapshot message to the follower: current term, far past its commit, the shard's voters, no data. */
function forgedSnapshotMessage(s: Shard, index: number, snapshotTerm?: number): Message {
  const term = termOf(s, s.follower);
  const m = peerMessage(s, MessageType.Snapshot, s.leader, s.follower, term);
  const voters = s.c.shard(s.shardId).replicas.map((r) => r.id);
  m.snapshot = {
    metadata: { index, term: snapshotTerm ?? term, confState: { voters, learners: [] } },
    data: new Uint8Array(0),
  };
  return m;
}

describe("forged peer input", () => {
  // Installed, an empty snapshot would leave the follower with an empty state at commit+1000; a
  // transfer of leadership to it would then stop the leader ("index 1002 is past the last
  // index"), and the follower would lead with its empty state: the accounts gone.
  it("a forged empty snapshot is refused, the follower keeps its state, and a transfer to it leaves every account in place", async () => {
    const s = await oneShard();
    const { accounts, index } = await deposits(s, 3);
    await s.c.waitForConvergence(s.shardId, index);
    const before = (await s.c.shardSummaries(s.shardId, true)).get(s.follower);

    const empty = await ledgerRejection(
      sendRawSnapshot(s, s.leader, s.follower, forgedSnapshotMessage(s, index + 1000), []),
    );
    expect(empty.code).toBe("FAILED_PRECONDITION");
    expect(empty.message).toContain("trailer.pair_count");
    // One made-up pair that is none of the follower's: refused too (its records are missing).
    const bogus = { key: new Uint8Array(21).fill(7), value: new Uint8Array([1]) };
    const partial = await ledgerRejection(
      sendRawSnapshot(s, s.leader, s.follower, forgedSnapshotMessage(s, index + 1000), [bogus]),
    );
    expect(partial.code).toBe("FAILED_PRECONDITION");
    expect(partial.message).toContain("chunk.pairs lack the key");
    // A snapshot of a later term than its own message: no leader holds one.
    const later = await ledgerRejection(
      sendRawSnapshot(s, s.leader, s.follower, forgedSnapshotMessage(s, index + 1000, termOf(s, s.follower) + 1), []),
    );
    expect(later.code).toBe("INVALID_ARGUMENT");
    expect(later.message).toContain("header.message.snapshot.metadata.term");
    // A membership with a replica that is not the shard's, one named twice, or no voter at all.
    // (A changed membership among the shard's replicas, with learners, is a legal one.)
    const ids = s.c.shard(s.shardId).replicas.map((r) => r.id);
    for (const confState of [
      { voters: [...ids.slice(0, 2), 999], learners: [] },
      { voters: ids.slice(0, 2), learners: [ids[0] as number] },
      { voters: [], learners: ids },
    ]) {
      const m = forgedSnapshotMessage(s, index + 1000);
      if (m.snapshot !== undefined) m.snapshot.metadata.confState = confState;
      const refused = await ledgerRejection(sendRawSnapshot(s, s.leader, s.follower, m, []));
      expect(refused.code).toBe("INVALID_ARGUMENT");
      expect(refused.message).toContain("are not distinct replicas of");
    }

    const after = (await s.c.shardSummaries(s.shardId, true)).get(s.follower);
    expect({ applied: after?.appliedIndex, hash: after?.stateHash }).toEqual({
      applied: before?.appliedIndex,
      hash: before?.stateHash,
    });

    await s.c
      .client(s.leader)
      .transferLeadership(create(TransferLeadershipRequestSchema, { shardId: s.shardId, toNodeId: s.follower }));
    await s.c.waitForLeader(s.shardId, { on: s.follower });
    const next = await s.c.proposeOn(
      s.follower,
      s.shardId,
      createAccountCommand(testTimestamp, accountIn(s.c.config, s.shardId), ""),
    );
    await s.c.waitForConvergence(s.shardId, next.index);
    await expectOnEveryReplica(s, accounts);
    expect(s.c.fatalErrors.map((f) => `${f.nodeId}: ${String(f.error)}`)).toEqual([]);
  });

  it("a forged snapshot Raft refuses (its term far beyond ours) fails the InstallSnapshot call and installs nothing, even on an empty replica", async () => {
    const s = await oneShard();
    const before = (await s.c.shardSummaries(s.shardId, false)).get(s.follower);
    const m = forgedSnapshotMessage(s, (before?.commitIndex ?? 0) + 1000);
    m.term += 1_000_000;
    const e = await ledgerRejection(sendRawSnapshot(s, s.leader, s.follower, m, []));
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.message).toContain("refused by replica");
    expect(refusedOn(s, s.follower).termJump).toBeGreaterThan(0);
    const after = (await s.c.shardSummaries(s.shardId, false)).get(s.follower);
    expect({ term: after?.term, snapshot: after?.snapshotIndex }).toEqual({
      term: before?.term,
      snapshot: before?.snapshotIndex,
    });
    // The receive ended cleanly: an honest write still reaches the follower.
    const next = await s.c.proposeOn(
      s.leader,
      s.shardId,
      createAccountCommand(testTimestamp, accountIn(s.c.config, s.shardId), ""),
    );
    await s.c.waitForConvergence(s.shardId, next.index);
    expect(s.c.fatalErrors).toEqual([]);
  });

  // Adopted, a heartbeat with term 2^53-1 would allow no further election (it needs
  // 2^53, which the wire refuses): the shard would stay leaderless for good, restarts included.
  it("a heartbeat with term 2^53-1 is refused: the follower keeps its term and the shard its leader", async () => {
    const s = await oneShard();
    const { accounts, index } = await deposits(s, 1);
    await s.c.waitForConvergence(s.shardId, index);
    const term = termOf(s, s.leader);
    const m = peerMessage(s, MessageType.Heartbeat, s.leader, s.follower, Number.MAX_SAFE_INTEGER);
    await sendRawBatch(s, s.leader, s.follower, m);
    // Stepped one way or the other: adopted (the term moves) or refused (counted).
    await waitFor("the follower to step the heartbeat", undefined, async () =>
      termOf(s, s.follower) !== term || refusedOn(s, s.follower).termAboveMax > 0 ? true : undefined,
    );

    expect(termOf(s, s.follower)).toBe(term);
    expect(await s.c.waitForLeader(s.shardId)).toBe(s.leader);
    const next = await s.c.proposeOn(
      s.leader,
      s.shardId,
      createAccountCommand(testTimestamp, accountIn(s.c.config, s.shardId), ""),
    );
    await s.c.waitForConvergence(s.shardId, next.index);
    expect(termOf(s, s.leader)).toBe(term);
    await expectOnEveryReplica(s, accounts);
    expect(s.c.fatalErrors).toEqual([]);
  });

  // Adopted, a heartbeat whose term is a million beyond the leader's would depose it.
  it("a heartbeat with term +1,000,000 sent to the leader is refused: it keeps leading in its term", async () => {
    const s = await oneShard();
    const { accounts, index } = await deposits(s, 1);
    await s.c.waitForConvergence(s.shardId, index);
    const term = termOf(s, s.leader);
    const m = peerMessage(s, MessageType.Heartbeat, s.follower, s.leader, term + 1_000_000);
    await sendRawBatch(s, s.follower, s.leader, m);
    await waitFor("the leader to step the heartbeat", undefined, async () =>
      termOf(s, s.leader) !== term || refusedOn(s, s.leader).termJump > 0 ? true : undefined,
    );

    expect(s.c.host(s.leader).replicaOf(s.shardId).isLeader).toBe(true);
    const next = await s.c.proposeOn(
      s.leader,
      s.shardId,
      createAccountCommand(testTimestamp, accountIn(s.c.config, s.shardId), ""),
    );
    await s.c.waitForConvergence(s.shardId, next.index);
    expect(termOf(s, s.leader)).toBe(term);
    expect(await s.c.waitForLeader(s.shardId)).toBe(s.leader);
    await expectOnEveryReplica(s, accounts);
    expect(s.c.fatalErrors).toEqual([]);
  });

  // A snapshot's data travels only on InstallSnapshot, staged before its message is stepped. A
  // Snapshot message on the Messages stream has none: installing it would fail inside the node's
  // loop turn (a fatal error, the process exits) and leave the replica a Ready it never finishes.
  it("a Snapshot message on the Messages stream is dropped: the node loop keeps running and the replica keeps applying", async () => {
    const s = await oneShard();
    const first = await deposits(s, 1);
    await s.c.waitForConvergence(s.shardId, first.index);
    await sendRawBatch(s, s.leader, s.follower, forgedSnapshotMessage(s, first.index + 1000));

    const second = await deposits(s, 1);
    // Either the follower applies the next write, or its loop reported a fatal error.
    await waitFor("the follower to apply the next write or its loop to fail", undefined, async () => {
      if (s.c.fatalErrors.length > 0) return true;
      const summary = (await s.c.shardSummaries(s.shardId, false)).get(s.follower);
      return summary !== undefined && summary.appliedIndex >= second.index ? true : undefined;
    });
    expect(s.c.fatalErrors.map((f) => `${f.nodeId}: ${String(f.error)}`)).toEqual([]);
  });

  it("an AppendResponse past the leader's last index is refused, and a transfer to its sender then succeeds", async () => {
    const s = await oneShard();
    const { accounts, index } = await deposits(s, 1);
    await s.c.waitForConvergence(s.shardId, index);
    const m = peerMessage(s, MessageType.AppendResponse, s.follower, s.leader, termOf(s, s.leader));
    m.index = index + 1000;
    await sendRawBatch(s, s.follower, s.leader, m);
    const followerReplica = replicaIdOn(s.c, s.shardId, s.follower);
    const matched = () => s.c.host(s.leader).replicaOf(s.shardId).raw.status().progress?.get(followerReplica)?.match;
    await waitFor("the leader to step the response", undefined, async () =>
      matched() === m.index || refusedOn(s, s.leader).inconsistent > 0 ? true : undefined,
    );
    expect(matched()).toBeLessThanOrEqual(index + 1);

    await s.c
      .client(s.leader)
      .transferLeadership(create(TransferLeadershipRequestSchema, { shardId: s.shardId, toNodeId: s.follower }));
    await s.c.waitForLeader(s.shardId, { on: s.follower });
    await expectOnEveryReplica(s, accounts);
    expect(s.c.fatalErrors).toEqual([]);
  });
});

describe("NodeService.Propose applies the public API's rules", () => {
  async function getTransaction(s: Shard, accountId: bigint, localId: bigint): Promise<QueryResult> {
    const query = toBinary(QuerySchema, getTransactionQuery({ accountId, localId }));
    const response = await s.c
      .client(s.leader)
      .read(create(ReadRequestSchema, { shardId: s.shardId, query, consistency: ReadConsistency.LINEARIZABLE }), {
        deadlineMs: Date.now() + 5_000,
      });
    return fromBinary(QueryResultSchema, response.result);
  }

  it("refuses each bad field with INVALID_ARGUMENT naming it, applied=no, alone or in a batch; nothing is stored", async () => {
    const s = await oneShard();
    const accountId = accountIn(s.c.config, s.shardId);
    await s.c.proposeOn(s.leader, s.shardId, createAccountCommand(testTimestamp, accountId, ""));
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const tx = (
      localId: bigint,
      fields: Partial<{ amount: bigint; description: string; requestId: string }>,
      timestamp = testTimestamp,
    ): Command =>
      createTransactionCommand(timestamp, {
        accountId,
        localId,
        amount: 5n,
        description: "",
        settled: true,
        requestId: "",
        ...fields,
      });
    const cases: [Command, string][] = [
      [
        tx(1n, { description: "x".repeat(20_000) }),
        `command.create_transaction.description is 20000 bytes of UTF-8; at most ${descriptionBytesMax} are allowed`,
      ],
      [
        tx(2n, { description: "é".repeat(descriptionBytesMax / 2 + 1) }),
        "command.create_transaction.description is 258 bytes",
      ],
      [
        tx(3n, { requestId: "r".repeat(requestIdCharsMax + 1) }),
        `command.create_transaction.request_id is longer than ${requestIdCharsMax} characters`,
      ],
      [tx(4n, { amount: 0n }), "command.create_transaction.amount must not be 0"],
      [tx(5n, {}, -1n), "command.timestamp is -1 ns"],
      [tx(6n, {}, nowNs + BigInt(commandTimestampAheadMsMax + 60_000) * 1_000_000n), "ahead of this node's clock"],
      [tx(7n, {}, nowNs - BigInt(commandTimestampBehindMsMax + 60_000) * 1_000_000n), "behind this node's clock"],
      [
        createAccountCommand(testTimestamp, accountIn(s.c.config, s.shardId), "a".repeat(requestIdCharsMax + 1)),
        "command.create_account.request_id is longer than",
      ],
    ];
    for (const [command, says] of cases) {
      for (const nodeId of [s.leader, s.follower]) {
        const e = await ledgerRejection(
          s.c
            .client(nodeId)
            .propose(create(ProposeRequestSchema, { shardId: s.shardId, command: toBinary(CommandSchema, command) })),
        );
        expect([e.code, e.details.applied], e.message).toEqual(["INVALID_ARGUMENT", "no"]);
        expect(e.message).toContain(says);
      }
    }
    // In a batch, the bad command is named by its position and the whole batch is refused.
    const good = toBinary(CommandSchema, tx(8n, {}));
    const late = toBinary(CommandSchema, tx(9n, {}, -1n));
    const e = await ledgerRejection(
      s.c
        .client(s.leader)
        .propose(create(ProposeRequestSchema, { shardId: s.shardId, commands: [good, good, good, late] })),
    );
    expect([e.code, e.details.applied]).toEqual(["INVALID_ARGUMENT", "no"]);
    expect(e.message).toMatch(/^commands\[3\]\.timestamp /);

    for (let localId = 1n; localId <= 9n; localId++) {
      const result = await getTransaction(s, accountId, localId);
      expect(
        result.kind.case === "error" ? result.kind.value.message : result.kind.case,
        `transaction ${localId}`,
      ).toMatch(/not found/);
    }
    // The public API's limits themselves are fine: exactly at them, the proposal is applied.
    const atLimits = tx(10n, {
      description: "é".repeat(descriptionBytesMax / 2),
      requestId: "r".repeat(requestIdCharsMax),
    });
    const fine = await s.c.proposeVia(s.leader, s.shardId, atLimits);
    expect(fine.result.kind.case).toBe("transaction");
    expect(
      accountOfResult(
        (await s.c.proposeVia(s.follower, s.shardId, createAccountCommand(nowNs, accountIn(s.c.config, s.shardId), "")))
          .result,
      ).createdAt,
    ).toBe(nowNs);
    expect(s.c.fatalErrors).toEqual([]);
  });

  it("decodes a proposed command strictly: a field with the wrong wire type is refused naming it, not misread", async () => {
    const s = await oneShard();
    const accountId = accountIn(s.c.config, s.shardId);
    await s.c.proposeOn(s.leader, s.shardId, createAccountCommand(testTimestamp, accountId, ""));
    // create_transaction (Command field 3) with settled (its field 5, a bool) appended as a
    // length-delimited value: protobuf-es alone reads it as true and would store it SETTLED.
    const txBytes = toBinary(
      CreateTransactionSchema,
      create(CreateTransactionSchema, { accountId, localId: 1n, amount: 5n, settled: false }),
    );
    const forgedTx = new Uint8Array([...txBytes, 0x2a, 0x01, 0x01]);
    const forged = new Uint8Array([0x08, ...varint(testTimestamp), 0x1a, forgedTx.length, ...forgedTx]);
    const e = await ledgerRejection(
      s.c.client(s.leader).propose(create(ProposeRequestSchema, { shardId: s.shardId, command: forged })),
    );
    expect([e.code, e.details.applied]).toEqual(["INVALID_ARGUMENT", "no"]);
    expect(e.message).toMatch(
      /^command is not a valid ledger\.core\.v1\.Command: create_transaction\.settled has wire type LEN/,
    );
    const result = await getTransaction(s, accountId, 1n);
    expect(result.kind.case).toBe("error");
  });
});

/** A uint64 as protobuf varint bytes. */
function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
