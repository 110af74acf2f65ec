// ClusterBackend against scripted fake nodes: routing by shard, leader hints and the leader
// cache, down nodes, identical bytes on every retry, the outcome-unknown error at the deadline,
// the settle/cancel confirmation after an unknown attempt, read consistency, bounded hops.

import { gatewayAnswerMarginFraction, gatewayAnswerMarginMsMax } from "../../src/gateway/limits.js";
import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { LedgerError } from "../../src/base/errors.js";
import type { ClusterConfig } from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import {
  cancelTransactionCommand,
  createAccountCommand,
  createTransactionCommand,
  getAccountQuery,
  settleTransactionCommand,
} from "../../src/gateway/core-requests.js";
import { gatewayLeaderHintFollowsMax } from "../../src/gateway/retry-policy.js";
import {
  CommandResultSchema,
  CommandSchema,
  CoreErrorCode,
  QueryResultSchema,
  TransactionRecordSchema,
  type Command,
  type CommandResult,
  type TransactionRecord,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { ReadConsistency } from "../../src/gen/ledger/node/v1/node_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { formatTransactionId } from "../../src/ledger/ids.js";
import {
  answerCommand,
  useFakeCluster,
  answerQuery,
  decodeCommand,
  hang,
  notLeader,
  type FakeNode,
} from "./fake-nodes.js";
import { ledgerRejection as rejection } from "../support/rejection.js";

/** How late after its deadline a failed call may settle: timer and event-loop slack only. */
/** How soon after its deadline a call must have failed: generous, since CI shares its cores. */
const deadlineSlackMs = 1_000;
const now = 1_700_000_000_000_000_000n;

const fake = useFakeCluster();
const { cluster } = fake;

/** The smallest account id (from 1) whose shard is config.shards[index]. */
function accountOnShard(config: ClusterConfig, index: number): bigint {
  const wanted = config.shards[index]!.id;
  for (let id = 1n; ; id++) if (shardForAccount(config, id).id === wanted) return id;
}

function accountResult(id: bigint): CommandResult {
  return create(CommandResultSchema, { kind: { case: "account", value: { id, createdAt: now, updatedAt: now } } });
}

function transactionRecord(accountId: bigint, localId: bigint, status: TransactionStatus): TransactionRecord {
  return create(TransactionRecordSchema, {
    accountId,
    localId,
    seq: 1n,
    amount: 100n,
    status,
    createdAt: now,
    updatedAt: now,
  });
}

function notPending(): CommandResult {
  return create(CommandResultSchema, {
    kind: { case: "error", value: { code: CoreErrorCode.FAILED_PRECONDITION, message: "transaction is not pending" } },
  });
}

/** Every node answers a proposal with its command's account as a new account record. */
function allAnswerAccounts(): void {
  for (const n of fake.nodes)
    n.onPropose = async (req) => answerCommand(accountResult(commandAccount(decodeCommand(req.command))));
}

function commandAccount(command: Command): bigint {
  return command.kind.case === undefined ? 0n : command.kind.value.accountId;
}

describe("ClusterBackend routing and leaders", () => {
  it("sends each update to its shard's preferred leader with that shard's id, and returns the decoded result", async () => {
    const { backend, config } = await cluster(3, 3);
    allAnswerAccounts();
    for (let s = 0; s < 3; s++) {
      const account = accountOnShard(config, s);
      const result = await backend.update(account, createAccountCommand(now, account, ""));
      expect(result).toEqual(accountResult(account));
    }
    expect(fake.nodes.map((n) => n.proposals.map((p) => p.shardId))).toEqual([
      ["shard-00"],
      ["shard-01"],
      ["shard-02"],
    ]);
  });

  it("follows a NOT_LEADER hint at once, caches the leader, and sends the next call straight to it", async () => {
    const { backend, config, logLines } = await cluster(3, 1);
    const [n1, n2, n3] = fake.nodes as [FakeNode, FakeNode, FakeNode];
    n1.onPropose = async () => Promise.reject(notLeader(n1, "node03"));
    n2.onPropose = async () => Promise.reject(new Error("node02 must not be asked"));
    n3.onPropose = async (req) => answerCommand(accountResult(commandAccount(decodeCommand(req.command))));
    const account = accountOnShard(config, 0);
    await backend.update(account, createAccountCommand(now, account, ""));
    expect([n1.calls, n2.calls, n3.calls]).toEqual([1, 0, 1]);
    expect(backend.cachedLeader("shard-00")).toBe("node03");
    await backend.update(account, createAccountCommand(now, account, ""));
    expect([n1.calls, n2.calls, n3.calls]).toEqual([1, 0, 2]);
    expect(logLines).toContainEqual(
      expect.objectContaining({
        level: "debug",
        msg: "leader changed",
        shard: "shard-00",
        from: "node01",
        to: "node03",
      }),
    );
  });

  it("skips a down node, answers from the next replica and caches it as the leader", async () => {
    const { backend, config } = await cluster(3, 1, { down: [0] });
    allAnswerAccounts();
    const account = accountOnShard(config, 0);
    const started = Date.now();
    expect(await backend.update(account, createAccountCommand(now, account, ""))).toEqual(accountResult(account));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect([fake.nodes[1]!.calls, fake.nodes[2]!.calls]).toEqual([1, 0]);
    expect(backend.cachedLeader("shard-00")).toBe("node02");
  });

  it("a cached leader that holds a call until its deadline is demoted: the next call goes to another replica", async () => {
    const { backend, config } = await cluster(3, 1);
    const [n1, n2] = fake.nodes as [FakeNode, FakeNode];
    n1.onPropose = (_req, ctx) => hang(ctx);
    n2.onPropose = async (req) => answerCommand(accountResult(commandAccount(decodeCommand(req.command))));
    const account = accountOnShard(config, 0);
    const timedOut = await rejection(
      backend.update(account, createAccountCommand(now, account, "a"), { deadlineMs: Date.now() + 1_000 }),
    );
    expect(timedOut.code).toBe("DEADLINE_EXCEEDED");
    expect(backend.cachedLeader("shard-00")).toBe("node02");
    expect(await backend.update(account, createAccountCommand(now, account, "b"))).toEqual(accountResult(account));
    expect([n1.calls, n2.calls]).toEqual([1, 1]);
  });

  it("retries (UNAVAILABLE after sending, NOT_LEADER hint, RESOURCE_EXHAUSTED) all carry the identical encoded command and request id", async () => {
    const { backend, config } = await cluster(3, 1);
    const [n1, n2, n3] = fake.nodes as [FakeNode, FakeNode, FakeNode];
    n1.onPropose = async () => Promise.reject(new LedgerError("UNAVAILABLE", "lost the connection to the leader"));
    n2.onPropose = async () => Promise.reject(notLeader(n2, "node03"));
    n3.onPropose = async (req, _ctx, self) => {
      if (self.proposals.length === 1) throw new LedgerError("RESOURCE_EXHAUSTED", "queue full");
      return answerCommand(accountResult(commandAccount(decodeCommand(req.command))));
    };
    const account = accountOnShard(config, 0);
    const command = createTransactionCommand(now, {
      accountId: account,
      localId: 7n,
      amount: 100n,
      description: "x",
      settled: true,
      requestId: "req-1",
    });
    await backend.update(account, command);
    const sent = fake.nodes.flatMap((n) => n.proposals);
    expect(sent).toHaveLength(4);
    const encoded = toBinary(CommandSchema, command);
    for (const p of sent) expect(p).toEqual({ shardId: "shard-00", command: encoded, requestId: "req-1" });
  });

  it("stops following hints after gatewayLeaderHintFollowsMax hops when nodes point at each other, and fails by the deadline", async () => {
    const { backend, config } = await cluster(3, 1, { backoffBaseMs: 50, backoffCapMs: 50 });
    const [n1, n2, n3] = fake.nodes as [FakeNode, FakeNode, FakeNode];
    n1.onPropose = async () => Promise.reject(notLeader(n1, "node02"));
    n2.onPropose = async () => Promise.reject(notLeader(n2, "node01"));
    n3.onPropose = async () => Promise.reject(notLeader(n3, "node01"));
    const account = accountOnShard(config, 0);
    const deadlineMs = Date.now() + 400;
    const error = await rejection(backend.update(account, createAccountCommand(now, account, "r"), { deadlineMs }));
    expect(Date.now() - deadlineMs).toBeLessThan(deadlineSlackMs);
    // NOT_LEADER refusals alone end in UNAVAILABLE; an attempt still in flight when the
    // deadline passes may have reached a node, which makes it DEADLINE_EXCEEDED: timing decides.
    expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"]).toContain(error.code);
    expect(error.message).toMatch(/shard-00 .* before the deadline \(\d+ attempts; last error: /);
    // Between two pauses (each at least 25 ms with this jitter) at most the hops plus one try per
    // replica; an unbounded hint loop would make thousands of calls in 400 ms.
    const rounds = Math.ceil(400 / 25) + 1;
    expect(n1.calls + n2.calls + n3.calls).toBeLessThanOrEqual((gatewayLeaderHintFollowsMax + 3) * rounds);
  });
});

describe("ClusterBackend deadlines", () => {
  it("an update that may have been applied fails just before the caller's deadline with DEADLINE_EXCEEDED saying the outcome is unknown and a retry is safe", async () => {
    const { backend, config } = await cluster(3, 1);
    for (const n of fake.nodes) n.onPropose = (_req, ctx) => hang(ctx);
    const account = accountOnShard(config, 0);
    const command = createTransactionCommand(now, {
      accountId: account,
      localId: 9n,
      amount: -5n,
      description: "",
      settled: false,
      requestId: "pay-42",
    });
    const budgetMs = 300;
    const deadlineMs = Date.now() + budgetMs;
    const error = await rejection(backend.update(account, command, { deadlineMs }));
    // The gateway keeps a margin so its answer beats the caller's own timer.
    const margin = Math.min(gatewayAnswerMarginMsMax, budgetMs * gatewayAnswerMarginFraction);
    const late = Date.now() - (deadlineMs - margin);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(deadlineSlackMs);
    expect(Date.now()).toBeLessThan(deadlineMs + deadlineSlackMs);
    expect(error.code).toBe("DEADLINE_EXCEEDED");
    const id = formatTransactionId({ accountId: account, localId: 9n });
    expect(error.message).toMatch(
      new RegExp(
        `^outcome unknown: CreateTransaction of transaction ${id} may or may not have been applied: shard-00 gave no definite answer before the deadline \\(1 attempt; last error: DEADLINE_EXCEEDED: .+\\); retrying with the same request_id "pay-42" is safe: it is applied at most once$`,
      ),
    );
  });

  it("an update without a request_id says a retry may apply it twice", async () => {
    const { backend, config } = await cluster(1, 1);
    fake.nodes[0]!.onPropose = (_req, ctx) => hang(ctx);
    const account = accountOnShard(config, 0);
    const error = await rejection(
      backend.update(account, createAccountCommand(now, account, ""), { deadlineMs: Date.now() + 1_000 }),
    );
    expect(error.code).toBe("DEADLINE_EXCEEDED");
    expect(error.message).toMatch(
      /^outcome unknown: .*; the call carried no request_id, so a retry may apply it twice: check first, and send a request_id to make retries safe$/,
    );
  });

  it("an update refused before sending by every node (all down) fails with UNAVAILABLE saying it was not applied, by the deadline", async () => {
    const { backend, config } = await cluster(3, 1, { down: [0, 1, 2] });
    const account = accountOnShard(config, 0);
    const deadlineMs = Date.now() + 300;
    const error = await rejection(backend.update(account, createAccountCommand(now, account, "r"), { deadlineMs }));
    expect(Date.now() - deadlineMs).toBeLessThan(deadlineSlackMs);
    expect(error.code).toBe("UNAVAILABLE");
    expect(error.message).toMatch(
      / was not applied: no replica of shard-00 could take it before the deadline \(\d+ attempts; last error: (UNAVAILABLE: No connection established|DEADLINE_EXCEEDED: .*Waiting for LB pick|DEADLINE_EXCEEDED: deadline passed before the call to \S+ was sent|DEADLINE_EXCEEDED: deadline exceeded after \d+ ms waiting for node \S+)/,
    );
  });

  it("a query that hangs fails at its deadline with DEADLINE_EXCEEDED saying it timed out", async () => {
    const { backend, config } = await cluster(3, 1);
    const account = accountOnShard(config, 0);
    // Every node connected first: on a loaded machine connecting alone can outlast the short
    // deadline below, and a retry that finds a node not yet connected ends in "not sent"
    // (UNAVAILABLE), not a timeout. Each node refuses until all three have been reached, so the
    // warm-up query's retries connect them all.
    const reached = new Set<number>();
    for (const [i, n] of fake.nodes.entries())
      n.onRead = async () => {
        reached.add(i);
        if (reached.size < fake.nodes.length) throw new LedgerError("UNAVAILABLE", "warming up");
        return answerQuery(create(QueryResultSchema, { kind: { case: "account", value: { id: account } } }));
      };
    await backend.query(account, getAccountQuery(account));
    expect(reached.size).toBe(fake.nodes.length);
    for (const n of fake.nodes) n.onRead = (_req, ctx) => hang(ctx);
    const deadlineMs = Date.now() + 200;
    const error = await rejection(backend.query(account, getAccountQuery(account), { deadlineMs }));
    expect(Date.now() - deadlineMs).toBeLessThan(deadlineSlackMs);
    expect(error.code).toBe("DEADLINE_EXCEEDED");
    expect(error.message).toMatch(
      /^GetAccount of account [0-9a-f]{16} on shard-00 timed out \(\d+ attempts?; last error: DEADLINE_EXCEEDED: /,
    );
  });

  it("fails at once on INVALID_ARGUMENT from a node, without retrying", async () => {
    const { backend, config } = await cluster(3, 1);
    fake.nodes[0]!.onPropose = async () =>
      Promise.reject(new LedgerError("INVALID_ARGUMENT", "command is not a valid ledger.core.v1.Command"));
    const account = accountOnShard(config, 0);
    const error = await rejection(backend.update(account, createAccountCommand(now, account, "")));
    expect([error.code, error.message]).toEqual(["INVALID_ARGUMENT", "command is not a valid ledger.core.v1.Command"]);
    expect(fake.nodes.map((n) => n.calls)).toEqual([1, 0, 0]);
  });

  it("after close() calls fail with UNAVAILABLE", async () => {
    const { backend, config } = await cluster(1, 1);
    await backend.close();
    const account = accountOnShard(config, 0);
    expect((await rejection(backend.query(account, getAccountQuery(account)))).code).toBe("UNAVAILABLE");
  });
});

describe("ClusterBackend settle/cancel after an attempt with unknown outcome", () => {
  // The retry resends the first attempt's exact command, attempt_id included: the core answers
  // a retry of the call that finished the transaction with the record, and refuses any other
  // call, so the gateway passes the node's answer on as it is and reads nothing.
  async function retryScenario(kind: "settle" | "cancel", secondAnswer: CommandResult) {
    const { backend, config } = await cluster(2, 1);
    const [n1, n2] = fake.nodes as [FakeNode, FakeNode];
    const account = accountOnShard(config, 0);
    const ref = { accountId: account, localId: 3n };
    n1.onPropose = async () => {
      throw new LedgerError("UNAVAILABLE", "connection to the leader lost mid-call");
    };
    n2.onPropose = async () => answerCommand(secondAnswer);
    const command =
      kind === "settle" ? settleTransactionCommand(now, ref, 91n) : cancelTransactionCommand(now, ref, 91n);
    const result = await backend.update(account, command);
    const sent = fake.nodes.flatMap((n) => n.proposals.map((p) => p.command));
    return { result, sent, reads: fake.nodes.flatMap((n) => n.reads), account };
  }

  it.each([
    ["settle", TransactionStatus.SETTLED],
    ["cancel", TransactionStatus.CANCELLED],
  ] as const)("%s: the retry carries the same attempt id and its record is the answer", async (kind, status) => {
    const record = create(CommandResultSchema, {
      kind: { case: "transaction", value: transactionRecord(0n, 3n, status) },
    });
    const { result, sent, reads } = await retryScenario(kind, record);
    expect(result).toEqual(record);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    const attemptIds = sent.map((bytes) => {
      const c = decodeCommand(bytes);
      return c.kind.case === "settleTransaction" || c.kind.case === "cancelTransaction" ? c.kind.value.attemptId : -1n;
    });
    expect(attemptIds).toEqual([91n, 91n]);
    expect(reads).toEqual([]);
  });

  it("a retry refused as no longer pending stays FAILED_PRECONDITION (another call finished it) and reads nothing", async () => {
    const { result, reads } = await retryScenario("settle", notPending());
    expect(result).toEqual(notPending());
    expect(reads).toEqual([]);
  });
});

describe("ClusterBackend reads", () => {
  it("asks for LINEARIZABLE by default and STALE when the caller opts in", async () => {
    const { backend, config } = await cluster(3, 1);
    const account = accountOnShard(config, 0);
    fake.nodes[0]!.onRead = async () =>
      answerQuery(create(QueryResultSchema, { kind: { case: "account", value: { id: account } } }));
    const linear = await backend.query(account, getAccountQuery(account));
    await backend.query(account, getAccountQuery(account), { stale: true });
    expect(linear).toEqual(create(QueryResultSchema, { kind: { case: "account", value: { id: account } } }));
    expect(fake.nodes[0]!.reads.map((r) => [r.shardId, r.consistency])).toEqual([
      ["shard-00", ReadConsistency.LINEARIZABLE],
      ["shard-00", ReadConsistency.STALE],
    ]);
  });

  it("a stale read falls back to a follower when the leader is down and leaves the leader cache alone", async () => {
    const { backend, config } = await cluster(3, 1, { down: [0] });
    const account = accountOnShard(config, 0);
    fake.nodes[1]!.onRead = async () =>
      answerQuery(create(QueryResultSchema, { kind: { case: "account", value: { id: account } } }));
    const result = await backend.query(account, getAccountQuery(account), { stale: true });
    expect(result.kind.case).toBe("account");
    expect(fake.nodes[1]!.reads.map((r) => r.consistency)).toEqual([ReadConsistency.STALE]);
    expect(backend.cachedLeader("shard-00")).toBe("node01");
  });
});

describe("ClusterBackend against silent or failing nodes", () => {
  it("an update whose cached leader hangs (paused node) is retried on a replica that answers, and succeeds within its deadline", async () => {
    const { backend, config } = await cluster(3, 1);
    const [n1, n2] = fake.nodes as [FakeNode, FakeNode];
    n1.onPropose = (_req, ctx) => hang(ctx);
    n2.onPropose = async (req) => {
      const c = decodeCommand(req.command);
      return answerCommand(accountResult(c.kind.case === "createAccount" ? c.kind.value.accountId : 0n));
    };
    const account = accountOnShard(config, 0);
    // Two seconds: longer than an election (1-2 s) would need to move the leader off a paused node.
    const outcome = await backend
      .update(account, createAccountCommand(now, account, "r1"), { deadlineMs: Date.now() + 2_000 })
      .then(
        (r) => r,
        (e: unknown) => (e instanceof LedgerError ? `${e.code}: ${e.message}` : e),
      );
    // An attempt gets a share of the call's deadline, not all of it: otherwise the one attempt
    // to node01 would use up the call and node02 would never be asked.
    expect(outcome).toEqual(accountResult(account));
    expect(n2.proposals.length).toBe(1);
  });

  it("an update that may have been applied by an earlier attempt and then meets a definite node error says its outcome is unknown", async () => {
    const { backend, config } = await cluster(3, 1);
    const [n1, n2] = fake.nodes as [FakeNode, FakeNode];
    // Sent, no details.applied = "no": the proposal may have been appended on node01.
    n1.onPropose = async () => Promise.reject(new LedgerError("UNAVAILABLE", "leader stepped down after appending"));
    // Any code retryActionFor maps to "fail" (INTERNAL, NOT_FOUND, FAILED_PRECONDITION, ...).
    n2.onPropose = async () => Promise.reject(new LedgerError("INTERNAL", "node02: unexpected raft error"));
    const account = accountOnShard(config, 0);
    const error = await rejection(
      backend.update(account, createAccountCommand(now, account, "r2"), { deadlineMs: Date.now() + 1_000 }),
    );
    // node02's definite INTERNAL does not undo what node01 may have applied: the caller must hear
    // that the outcome is unknown, so it knows a retry with the same request_id is the safe move.
    expect(error.message).toMatch(/outcome (is )?unknown/);
  });

  it("after the cached leader and then its replacement each hold a call to its deadline, the next call goes to the replica not yet tried, not back to the first", async () => {
    const { backend, config } = await cluster(3, 1);
    const [n1, n2, n3] = fake.nodes as [FakeNode, FakeNode, FakeNode];
    // node01 paused; node02 still forwards to it (no election yet) so it holds calls too.
    n1.onPropose = (_req, ctx) => hang(ctx);
    n2.onPropose = (_req, ctx) => hang(ctx);
    n3.onPropose = async (req) => {
      const c = decodeCommand(req.command);
      return answerCommand(accountResult(c.kind.case === "createAccount" ? c.kind.value.accountId : 0n));
    };
    const account = accountOnShard(config, 0);
    // Each call's deadline is long enough that its attempt reaches the silent node even when a
    // loaded machine stalls this process (a call out of time before its first attempt demotes
    // nothing).
    const callMs = 1_000;
    const first = await rejection(
      backend.update(account, createAccountCommand(now, account, "d1"), { deadlineMs: Date.now() + callMs }),
    );
    expect(first.code).toBe("DEADLINE_EXCEEDED");
    expect(backend.cachedLeader("shard-00")).toBe("node02");
    const second = await rejection(
      backend.update(account, createAccountCommand(now, account, "d2"), { deadlineMs: Date.now() + callMs }),
    );
    expect(second.code).toBe("DEADLINE_EXCEEDED");
    // Demoting a silent leader picks a replica not yet tried: picking the next in replica order
    // would go back to node01, and calls would ping-pong between the two silent nodes, each
    // costing a full deadline.
    expect(backend.cachedLeader("shard-00")).toBe("node03");
    expect(n3.proposals.length).toBe(0);
  });
});
