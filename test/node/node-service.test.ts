// NodeService over gRPC against three in-process hosts: forwarding from followers, the
// NOT_LEADER answer once the hop budget is spent, argument checks, reads on followers, and
// batch proposals (ProposeRequest.commands): the node's checks of a batch before it reaches the
// log (all refusals applied=no) and forwarding. How NodeHost applies a batch:
// node-host-write-path.test.ts.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { nodeForwardHopsMax, proposalEntryBytesMax } from "../../src/node/limits.js";
import { createAccountCommand, createTransactionCommand, getAccountQuery } from "../../src/gateway/core-requests.js";
import {
  CommandResultSchema,
  CommandSchema,
  QueryResultSchema,
  QuerySchema,
  type QueryResult,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { CoreErrorCode } from "../../src/gen/ledger/core/v1/core_pb.js";
import {
  ProposeRequestSchema,
  ReadConsistency,
  ReadRequestSchema,
  ReplicaRole,
  ReplicaStatesRequestSchema,
  TransferLeadershipRequestSchema,
  type ReadResponse,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { cleanUpEverything } from "../support/cleanup.js";
import {
  InProcessCluster,
  accountIn,
  accountOfResult,
  encodedTransaction as tx,
  fundedAccount,
  testTimestamp,
  transactionOfResult,
} from "./support/in-process-cluster.js";

let cluster: InProcessCluster;
let shardId: string;
let leader: string;
let follower: string;

beforeAll(async () => {
  cluster = await InProcessCluster.start({ shards: 2 });
  shardId = cluster.config.shards[0]?.id ?? "";
  // Stable leaders: leader balancing then moves no leader mid-test.
  leader = (await cluster.waitForStableLeaders()).get(shardId) ?? "";
  follower = cluster.nodeIds.find((id) => id !== leader) ?? "";
});

afterEach(() => {
  expect(cluster.fatalErrors).toEqual([]);
});

afterAll(async () => {
  await cluster?.close();
  await cleanUpEverything();
});

async function failure(p: Promise<unknown>): Promise<LedgerError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LedgerError);
  return e as LedgerError;
}

async function readVia(
  nodeId: string,
  accountId: bigint,
  consistency: ReadConsistency,
): Promise<{ result: QueryResult; response: ReadResponse }> {
  const response = await cluster
    .client(nodeId)
    .read(
      create(ReadRequestSchema, { shardId, query: toBinary(QuerySchema, getAccountQuery(accountId)), consistency }),
      { deadlineMs: Date.now() + 5_000 },
    );
  return { result: fromBinary(QueryResultSchema, response.result), response };
}

describe("NodeService", () => {
  it("a proposal sent to a follower is forwarded to the leader and applied", async () => {
    const accountId = accountIn(cluster.config, shardId);
    const { result, index } = await cluster.proposeVia(
      follower,
      shardId,
      createAccountCommand(testTimestamp, accountId, "fwd"),
    );
    expect(accountOfResult(result).id).toBe(accountId);
    expect(index).toBeGreaterThan(0);
    // Applied on the leader (it answered after applying) and, in time, on every replica.
    const leaderView = await readVia(leader, accountId, ReadConsistency.STALE);
    expect(accountOfResult(leaderView.result).requestId).toBe("fwd");
    expect(Number(leaderView.response.appliedIndex)).toBeGreaterThanOrEqual(index);
    const replicas = await cluster.waitForConvergence(shardId, index);
    expect(replicas.size).toBe(3);
  });

  it("with the hop budget spent, a follower answers NOT_LEADER with details.leader = the leader's node id, and nothing is applied", async () => {
    const accountId = accountIn(cluster.config, shardId);
    const e = await failure(
      cluster.proposeVia(follower, shardId, createAccountCommand(testTimestamp, accountId, ""), {
        hops: nodeForwardHopsMax,
      }),
    );
    expect(e.code).toBe("NOT_LEADER");
    expect(e.details.leader).toBe(leader);
    expect(e.message).toContain(leader);
    const { result } = await readVia(leader, accountId, ReadConsistency.LINEARIZABLE);
    expect(result.kind.case).toBe("error");
  });

  it("the leader accepts a proposal whatever its hop count", async () => {
    const accountId = accountIn(cluster.config, shardId);
    const { result } = await cluster.proposeVia(leader, shardId, createAccountCommand(testTimestamp, accountId, ""), {
      hops: nodeForwardHopsMax,
    });
    expect(accountOfResult(result).id).toBe(accountId);
  });

  it("an unknown shard_id is INVALID_ARGUMENT naming shard_id, for propose and read", async () => {
    const p = await failure(cluster.proposeVia(leader, "shard-nope", createAccountCommand(testTimestamp, 1n, "")));
    expect(p.code).toBe("INVALID_ARGUMENT");
    expect(p.message).toContain("shard_id");
    expect(p.message).toContain("shard-nope");
    const r = await failure(
      cluster.client(follower).read(
        create(ReadRequestSchema, {
          shardId: "shard-nope",
          query: toBinary(QuerySchema, getAccountQuery(1n)),
          consistency: ReadConsistency.STALE,
        }),
      ),
    );
    expect(r.code).toBe("INVALID_ARGUMENT");
    expect(r.message).toContain("shard_id");
  });

  it("an empty command is INVALID_ARGUMENT, on the leader and on a follower", async () => {
    for (const nodeId of [leader, follower]) {
      const response = cluster.client(nodeId).propose({
        $typeName: "ledger.node.v1.ProposeRequest",
        shardId,
        command: new Uint8Array(0),
        commands: [],
        requestId: "",
        hops: 0,
      });
      const e = await failure(response);
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toContain("command");
    }
  });

  // A Command with no kind would be appended, committed and applied on every replica, where the
  // core asserts inside the loop turn: every node's loop would fail, and fail again on replaying
  // the same committed entry after a restart. One call would stop every shard of every node.
  it("a proposal whose command sets no kind is refused with INVALID_ARGUMENT and leaves the nodes running", async () => {
    const refused = await cluster
      .proposeVia(leader, shardId, create(CommandSchema, { timestamp: testTimestamp }), {
        deadlineMs: Date.now() + 2_000,
      })
      .then(
        () => "accepted",
        (e: unknown) => (e instanceof Error ? `${(e as { code?: string }).code ?? ""}` : String(e)),
      );
    // Give the loops the chance to fail: a later write must be applied.
    const afterwards = await cluster
      .proposeOn(
        leader,
        shardId,
        createAccountCommand(testTimestamp, accountIn(cluster.config, shardId), ""),
        Date.now() + 3_000,
      )
      .then(
        (r) => r.index,
        () => 0,
      );
    expect({
      refused,
      fatal: cluster.fatalErrors.map((f) => `${f.nodeId}: ${String(f.error)}`),
      afterwardsApplied: afterwards > 0,
    }).toEqual({ refused: "INVALID_ARGUMENT", fatal: [], afterwardsApplied: true });
  });

  it("a linearizable read on a follower sees the write acknowledged just before it", async () => {
    const accountId = accountIn(cluster.config, shardId);
    await cluster.proposeVia(leader, shardId, createAccountCommand(testTimestamp, accountId, ""));
    let expected = 0n;
    for (let i = 1; i <= 10; i++) {
      const amount = BigInt(i * 100);
      const { index } = await cluster.proposeVia(
        leader,
        shardId,
        createTransactionCommand(testTimestamp + BigInt(i), {
          accountId,
          localId: BigInt(i),
          amount,
          description: "",
          settled: true,
          requestId: "",
        }),
      );
      expected += amount;
      const { result, response } = await readVia(follower, accountId, ReadConsistency.LINEARIZABLE);
      const account = accountOfResult(result);
      expect(account.transactionCount, `after write ${i}`).toBe(BigInt(i));
      expect(account.settledBalance, `after write ${i}`).toBe(expected);
      expect(Number(response.appliedIndex)).toBeGreaterThanOrEqual(index);
    }
  });

  it("a stale read on a follower is served from its applied state", async () => {
    const accountId = accountIn(cluster.config, shardId);
    const { index } = await cluster.proposeVia(
      leader,
      shardId,
      createAccountCommand(testTimestamp, accountId, "stale"),
    );
    await cluster.waitForConvergence(shardId, index);
    const { result, response } = await readVia(follower, accountId, ReadConsistency.STALE);
    expect(accountOfResult(result).requestId).toBe("stale");
    expect(Number(response.appliedIndex)).toBeGreaterThanOrEqual(index);
    // It is the follower's own state: the follower does not lead this shard.
    const states = await cluster
      .client(follower)
      .replicaStates({ $typeName: "ledger.node.v1.ReplicaStatesRequest", includeStateHash: false });
    const mine = states.replicas.find((r) => r.shardId === shardId);
    expect(states.nodeId).toBe(follower);
    expect(mine?.role).toBe(ReplicaRole.FOLLOWER);
    expect(mine?.leaderNodeId).toBe(leader);
  });

  it("a create_transaction with amount 0 (which the core cannot apply) is refused before the log with INVALID_ARGUMENT, applied=no, alone or in a batch, and no replica stops", async () => {
    const accountId = accountIn(cluster.config, shardId);
    const zero = toBinary(
      CommandSchema,
      createTransactionCommand(testTimestamp, {
        accountId,
        localId: 1n,
        amount: 0n,
        description: "",
        settled: true,
        requestId: "",
      }),
    );
    const fine = toBinary(CommandSchema, createAccountCommand(testTimestamp, accountId, "zero-batch"));
    for (const nodeId of [leader, follower]) {
      const single = await failure(
        cluster.client(nodeId).propose(create(ProposeRequestSchema, { shardId, command: zero })),
      );
      expect(single.code).toBe("INVALID_ARGUMENT");
      expect(single.message).toContain("amount");
      expect(single.details.applied).toBe("no");
      const batch = await failure(
        cluster.client(nodeId).propose(create(ProposeRequestSchema, { shardId, commands: [fine, zero] })),
      );
      expect(batch.code).toBe("INVALID_ARGUMENT");
      expect(batch.message).toContain("commands[1]");
    }
    // Nothing of the refused batch was applied (its valid first item included).
    const read = await readVia(leader, accountId, ReadConsistency.LINEARIZABLE);
    expect(read.result.kind.case).toBe("error");
  });

  it("a command the core refuses comes back as the core's error result, not as a call failure", async () => {
    const missing = accountIn(cluster.config, shardId);
    const { result, index } = await cluster.proposeVia(
      follower,
      shardId,
      createTransactionCommand(testTimestamp, {
        accountId: missing,
        localId: 1n,
        amount: 5n,
        description: "",
        settled: false,
        requestId: "",
      }),
    );
    expect(result.kind.case).toBe("error");
    if (result.kind.case === "error") expect(result.kind.value.code).toBe(CoreErrorCode.NOT_FOUND);
    expect(index).toBeGreaterThan(0);
  });

  it("a read whose query bytes are not a Query, or set no kind, is INVALID_ARGUMENT", async () => {
    const garbage = await failure(
      cluster.client(follower).read(
        create(ReadRequestSchema, {
          shardId,
          query: new Uint8Array([0xff, 0xff, 0xff]),
          consistency: ReadConsistency.STALE,
        }),
      ),
    );
    expect(garbage.code).toBe("INVALID_ARGUMENT");
    expect(garbage.message).toContain("query");
    const empty = await failure(
      cluster
        .client(follower)
        .read(
          create(ReadRequestSchema, { shardId, query: new Uint8Array(0), consistency: ReadConsistency.LINEARIZABLE }),
        ),
    );
    expect(empty.code).toBe("INVALID_ARGUMENT");
    expect(empty.message).toContain("query");
  });

  it("ReplicaStates reports one leader per shard that every node names, and equal 32-byte state hashes once the replicas have applied the same index", async () => {
    const { index } = await cluster.proposeVia(
      leader,
      shardId,
      createAccountCommand(testTimestamp, accountIn(cluster.config, shardId), ""),
    );
    await cluster.waitForConvergence(shardId, index);
    const all = await Promise.all(
      cluster.nodeIds.map((id) =>
        cluster.client(id).replicaStates(create(ReplicaStatesRequestSchema, { includeStateHash: true })),
      ),
    );
    expect(all.map((r) => r.nodeId)).toEqual(cluster.nodeIds);
    for (const shard of cluster.config.shards) {
      const states = all.map((r) => r.replicas.find((x) => x.shardId === shard.id));
      expect(states.every((s) => s !== undefined)).toBe(true);
      expect(states.filter((s) => s?.role === ReplicaRole.LEADER)).toHaveLength(1);
      const leaderNode = all[states.findIndex((s) => s?.role === ReplicaRole.LEADER)]?.nodeId;
      for (const s of states) {
        expect(s?.leaderNodeId).toBe(leaderNode);
        expect(s?.caughtUp).toBe(true);
        expect(s?.stateHash.length).toBe(32);
        expect(s?.appliedIndex).toBeLessThanOrEqual(s?.commitIndex ?? 0n);
        expect(s?.commitIndex).toBeLessThanOrEqual(s?.lastIndex ?? 0n);
      }
      expect(new Set(states.map((s) => s?.replicaId)).size).toBe(3);
    }
    const mine = all.map((r) => r.replicas.find((x) => x.shardId === shardId));
    expect(new Set(mine.map((s) => s?.appliedIndex)).size).toBe(1);
    expect(new Set(mine.map((s) => Buffer.from(s?.stateHash ?? []).toString("hex"))).size).toBe(1);
    // Without the flag, no hash is computed.
    const plain = await cluster
      .client(leader)
      .replicaStates(create(ReplicaStatesRequestSchema, { includeStateHash: false }));
    expect(plain.replicas.every((s) => s.stateHash.length === 0)).toBe(true);
  });

  it("TransferLeadership to a node that hosts no replica of the shard, or for an unknown shard, is INVALID_ARGUMENT", async () => {
    const noNode = await failure(
      cluster
        .client(leader)
        .transferLeadership(create(TransferLeadershipRequestSchema, { shardId, toNodeId: "node99" })),
    );
    expect(noNode.code).toBe("INVALID_ARGUMENT");
    expect(noNode.message).toContain("to_node_id");
    const noShard = await failure(
      cluster
        .client(leader)
        .transferLeadership(create(TransferLeadershipRequestSchema, { shardId: "shard-nope", toNodeId: follower })),
    );
    expect(noShard.code).toBe("INVALID_ARGUMENT");
    expect(noShard.message).toContain("shard_id");
  });

  it("concurrent proposals sent to every node for every shard each get their own command's result, and the replicas converge", async () => {
    const calls = [];
    for (let i = 0; i < 240; i++) {
      const shard = cluster.config.shards[i % cluster.config.shards.length]?.id ?? "";
      const nodeId = cluster.nodeIds[Math.floor(i / 2) % 3] ?? "";
      const accountId = accountIn(cluster.config, shard);
      calls.push(
        cluster
          .proposeVia(nodeId, shard, createAccountCommand(testTimestamp, accountId, `c-${i}`))
          .then((r) => ({ ...r, shard, accountId, i })),
      );
    }
    const results = await Promise.all(calls);
    for (const r of results) {
      const account = accountOfResult(r.result);
      expect(account.id).toBe(r.accountId);
      expect(account.requestId).toBe(`c-${r.i}`);
    }
    for (const shard of cluster.config.shards) {
      const mine = results.filter((r) => r.shard === shard.id);
      // One log index per command: no two callers were answered for the same entry.
      expect(new Set(mine.map((r) => r.index)).size).toBe(mine.length);
      const replicas = await cluster.waitForConvergence(shard.id, Math.max(...mine.map((r) => r.index)));
      expect(new Set([...replicas.values()].map((x) => Buffer.from(x.stateHash ?? []).toString("hex"))).size).toBe(1);
    }
  });
});

describe("NodeService batch proposals", () => {
  it("refuses, applied=no, a request that sets both or neither of command and commands", async () => {
    const { accountId: a } = await fundedAccount(cluster, shardId, leader, 10n);
    const one = tx({ accountId: a, localId: 2n, amount: 1n });
    const cases: [{ command?: Uint8Array; commands?: Uint8Array[] }, string][] = [
      [{ command: one, commands: [one] }, "both set"],
      [{}, "must be set"],
    ];
    for (const [fields, says] of cases) {
      const e = await failure(cluster.client(leader).propose(create(ProposeRequestSchema, { shardId, ...fields })));
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toContain("command");
      expect(e.message).toContain("commands");
      expect(e.message).toContain(says);
      expect(e.details.applied).toBe("no");
    }
  });

  it("refuses the whole batch before the log when one command is bad, naming commands[i]; nothing of it is applied", async () => {
    const { accountId: a } = await fundedAccount(cluster, shardId, leader, 10n);
    const otherShardId = cluster.config.shards[1]?.id ?? "";
    const good = tx({ accountId: a, localId: 3n, amount: 1n });
    const elsewhere = tx({ accountId: accountIn(cluster.config, otherShardId), localId: 1n, amount: 1n });
    const noKind = toBinary(CommandSchema, create(CommandSchema, { timestamp: testTimestamp }));
    const lastBefore = cluster.host(leader).replicaOf(shardId).log.lastIndex();
    for (const [bad, says] of [
      [new Uint8Array(0), "commands[1] must not be empty"],
      [new Uint8Array([0xff, 0xff, 0xff]), "commands[1] is not a valid"],
      [noKind, "commands[1] must set one of"],
      [elsewhere, "commands[1]'s account belongs to another shard"],
    ] as const) {
      const e = await failure(
        cluster.client(leader).propose(create(ProposeRequestSchema, { shardId, commands: [good, bad, good] })),
      );
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toContain(says);
      expect(e.details.applied).toBe("no");
    }
    expect(cluster.host(leader).replicaOf(shardId).log.lastIndex()).toBe(lastBefore);
  });

  it("refuses a batch larger than proposalEntryBytesMax, applied=no, naming the limit", async () => {
    const { accountId: a } = await fundedAccount(cluster, shardId, leader, 10n);
    const description = "x".repeat(1_000);
    const count = Math.ceil(proposalEntryBytesMax / 1_000) + 10;
    const commands = Array.from({ length: count }, (_, i) =>
      tx({ accountId: a, localId: BigInt(100 + i), amount: 1n, description }),
    );
    const lastBefore = cluster.host(leader).replicaOf(shardId).log.lastIndex();
    const e = await failure(
      cluster
        .client(leader)
        .propose(create(ProposeRequestSchema, { shardId, commands }), { deadlineMs: Date.now() + 10_000 }),
    );
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain("proposalEntryBytesMax");
    expect(e.details.applied).toBe("no");
    expect(cluster.host(leader).replicaOf(shardId).log.lastIndex()).toBe(lastBefore);
  });

  it("forwards a batch sent to a follower to the leader and answers with one result per command", async () => {
    const { accountId: a } = await fundedAccount(cluster, shardId, leader, 10n);
    const commands = [
      tx({ accountId: a, localId: 20n, amount: 5n }),
      tx({ accountId: a, localId: 21n, amount: -100n }),
    ];
    const response = await cluster
      .client(follower)
      .propose(create(ProposeRequestSchema, { shardId, commands }), { deadlineMs: Date.now() + 10_000 });
    expect(response.leaderNodeId).toBe(leader);
    expect(response.result.length).toBe(0);
    const results = response.results.map((r) => fromBinary(CommandResultSchema, r));
    expect(results.map((r) => transactionOfResult(r).status)).toEqual([
      TransactionStatus.SETTLED,
      TransactionStatus.INSUFFICIENT_FUNDS,
    ]);
  });
});
