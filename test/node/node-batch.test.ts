// Batch proposals (ProposeRequest.commands): ONE log entry per batch, applied in order on every
// replica, each command independently with its own outcome; the node's checks of a batch before
// it reaches the log (all refusals applied=no); and batch entries surviving restarts.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodePendingProposalsMax, proposalEntryBytesMax } from "../../src/node/limits.js";
import {
  createAccountCommand,
  createTransactionCommand,
  type NewTransaction,
} from "../../src/gateway/core-requests.js";
import {
  CommandResultSchema,
  CommandSchema,
  CoreErrorCode,
  type CommandResult,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { ProposeRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import type { ReplicaSummary } from "../../src/node/node-host.js";
import { cleanUpEverything } from "../support/cleanup.js";
import { ledgerRejection } from "../support/rejection.js";
import {
  InProcessCluster,
  accountIn,
  accountOfResult,
  testTimestamp,
  transactionOfResult,
} from "./support/in-process-cluster.js";

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

const tx = (t: Partial<NewTransaction> & { accountId: bigint; localId: bigint; amount: bigint }) =>
  toBinary(
    CommandSchema,
    createTransactionCommand(testTimestamp, { description: "", settled: true, requestId: "", ...t }),
  );

async function leaderOf(id: string): Promise<string> {
  return (await cluster.waitForStableLeaders()).get(id) ?? "";
}

async function newAccount(id: string, leader: string, deposit: bigint): Promise<bigint> {
  const accountId = accountIn(cluster.config, id);
  await cluster.proposeOn(leader, id, createAccountCommand(testTimestamp, accountId, ""));
  await cluster.proposeOn(
    leader,
    id,
    createTransactionCommand(testTimestamp, {
      accountId,
      localId: 1n,
      amount: deposit,
      description: "",
      settled: true,
      requestId: "",
    }),
  );
  return accountId;
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

describe("batch proposals", () => {
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

  it("the node refuses, applied=no, a request with both or neither of command and commands", async () => {
    const leader = await leaderOf(shardId);
    const a = await newAccount(shardId, leader, 10n);
    const one = tx({ accountId: a, localId: 2n, amount: 1n });
    const cases: [{ command?: Uint8Array; commands?: Uint8Array[] }, string][] = [
      [{ command: one, commands: [one] }, "both set"],
      [{}, "must be set"],
    ];
    for (const [fields, says] of cases) {
      const e = await ledgerRejection(
        cluster.client(leader).propose(create(ProposeRequestSchema, { shardId, ...fields })),
      );
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toContain("command");
      expect(e.message).toContain("commands");
      expect(e.message).toContain(says);
      expect(e.details.applied).toBe("no");
    }
  });

  it("one bad command refuses the whole batch before the log, naming commands[i]; nothing of it is applied", async () => {
    const leader = await leaderOf(shardId);
    const a = await newAccount(shardId, leader, 10n);
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
      const e = await ledgerRejection(
        cluster.client(leader).propose(create(ProposeRequestSchema, { shardId, commands: [good, bad, good] })),
      );
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toContain(says);
      expect(e.details.applied).toBe("no");
    }
    expect(cluster.host(leader).replicaOf(shardId).log.lastIndex()).toBe(lastBefore);
  });

  it("a batch larger than proposalEntryBytesMax is refused, applied=no, naming the limit", async () => {
    const leader = await leaderOf(shardId);
    const a = await newAccount(shardId, leader, 10n);
    const description = "x".repeat(1_000);
    const count = Math.ceil(proposalEntryBytesMax / 1_000) + 10;
    const commands = Array.from({ length: count }, (_, i) =>
      tx({ accountId: a, localId: BigInt(100 + i), amount: 1n, description }),
    );
    const lastBefore = cluster.host(leader).replicaOf(shardId).log.lastIndex();
    const e = await ledgerRejection(
      cluster
        .client(leader)
        .propose(create(ProposeRequestSchema, { shardId, commands }), { deadlineMs: Date.now() + 10_000 }),
    );
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain("proposalEntryBytesMax");
    expect(e.details.applied).toBe("no");
    expect(cluster.host(leader).replicaOf(shardId).log.lastIndex()).toBe(lastBefore);
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

  it("a batch sent to a follower is forwarded to the leader and answered with one result per command", async () => {
    const leader = await leaderOf(shardId);
    const follower = cluster.nodeIds.find((n) => n !== leader) ?? "";
    const a = await newAccount(shardId, leader, 10n);
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
