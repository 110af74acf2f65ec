// ClusterBackend.updateMany over scripted fake nodes: ONE ProposeRequest{commands} per shard,
// resent byte for byte on retries; outcomes back in the items' order; a shard that fails fails
// only its own items, each with the wording update would have given it; a batch that may have been
// applied (in flight when the gateway closes, or answered with results the gateway cannot match to
// its items) leaves each item's outcome unknown, with its own request_id advice.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { LedgerError } from "../../src/base/errors.js";
import type { ClusterConfig } from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import type { ClusterBackend } from "../../src/gateway/cluster-backend.js";
import { createTransactionCommand, settleTransactionCommand } from "../../src/gateway/core-requests.js";
import {
  CommandResultSchema,
  CommandSchema,
  TransactionRecordSchema,
  type Command,
  type CommandResult,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { ProposeResponseSchema, type ProposeRequest } from "../../src/gen/ledger/node/v1/node_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import type { UpdateItem } from "../../src/ledger/backend.js";
import { formatTransactionId } from "../../src/ledger/ids.js";
import { useFakeCluster, hang, notLeader, type FakeNode } from "./fake-nodes.js";

const now = 1_700_000_000_000_000_000n;
const fake = useFakeCluster();
const { cluster } = fake;

/** Distinct account ids (from `from`) whose shard is config.shards[index]. */
function accountsOnShard(config: ClusterConfig, index: number, count: number, from = 1n): bigint[] {
  const wanted = config.shards[index]!.id;
  const out: bigint[] = [];
  for (let id = from; out.length < count; id++) if (shardForAccount(config, id).id === wanted) out.push(id);
  return out;
}

const item = (accountId: bigint, localId: bigint, requestId = ""): UpdateItem => ({
  accountId,
  command: createTransactionCommand(now, { accountId, localId, amount: 5n, description: "", settled: true, requestId }),
});

/** The core's answer to a create: the transaction it names, settled. */
function echo(command: Command): CommandResult {
  if (command.kind.case !== "createTransaction") throw new Error("expected a create");
  const { accountId, localId, amount } = command.kind.value;
  const record = create(TransactionRecordSchema, {
    accountId,
    localId,
    seq: 1n,
    amount,
    status: TransactionStatus.SETTLED,
    createdAt: now,
    updatedAt: now,
  });
  return create(CommandResultSchema, { kind: { case: "transaction", value: record } });
}

function answerBatch(request: ProposeRequest, leaderNodeId: string) {
  const results = request.commands.map((c) => toBinary(CommandResultSchema, echo(fromBinary(CommandSchema, c))));
  return create(ProposeResponseSchema, { results, index: 1n, leaderNodeId });
}

/** Records every Propose a node receives (its commands copied) and answers it with `answer`. */
function record(
  node: FakeNode,
  seen: ProposeRequest[],
  answer: (req: ProposeRequest, attempt: number) => Promise<ReturnType<typeof answerBatch>>,
): void {
  node.onPropose = (req) => {
    seen.push({ ...req, commands: req.commands.map((c) => Uint8Array.from(c)) });
    return answer(req, seen.length);
  };
}

const localIdOf = (r: CommandResult | LedgerError): bigint => {
  if (r instanceof LedgerError || r.kind.case !== "transaction")
    throw new Error(`expected a transaction, got ${String(r)}`);
  return r.kind.value.localId;
};

describe("ClusterBackend.updateMany", () => {
  it("sends ONE ProposeRequest per shard holding that shard's commands in order (command unset), and answers in the items' order", async () => {
    const { backend, config } = await cluster(3, 3);
    const seen: ProposeRequest[][] = [[], [], []];
    for (const [i, n] of fake.nodes.entries()) record(n, seen[i]!, async (req) => answerBatch(req, n.id));
    const [a0, b0] = accountsOnShard(config, 0, 2);
    const [a1] = accountsOnShard(config, 1, 1);
    const [a2] = accountsOnShard(config, 2, 1);
    const items = [item(a0!, 1n), item(a1!, 2n), item(b0!, 3n), item(a2!, 4n), item(a0!, 5n)];
    const outcomes = await backend.updateMany(items);

    expect(outcomes.map(localIdOf)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(seen.map((s) => s.length)).toEqual([1, 1, 1]);
    const shard0 = seen[0]![0]!;
    expect(shard0.shardId).toBe("shard-00");
    expect(shard0.command.length).toBe(0);
    expect(shard0.commands).toEqual([items[0]!, items[2]!, items[4]!].map((i) => toBinary(CommandSchema, i.command)));
    expect(seen[1]![0]!.commands).toEqual([toBinary(CommandSchema, items[1]!.command)]);
  });

  it("retries (UNAVAILABLE, NOT_LEADER hint, RESOURCE_EXHAUSTED) resend the identical batch", async () => {
    const { backend, config } = await cluster(3, 1);
    const seen: ProposeRequest[] = [];
    const [n1, n2, n3] = fake.nodes as [FakeNode, FakeNode, FakeNode];
    record(n1, seen, () => Promise.reject(new LedgerError("UNAVAILABLE", "lost the connection to the leader")));
    record(n2, seen, () => Promise.reject(notLeader(n2, "node03")));
    let n3Calls = 0;
    record(n3, seen, async (req) => {
      if (++n3Calls === 1) throw new LedgerError("RESOURCE_EXHAUSTED", "queue full");
      return answerBatch(req, "node03");
    });
    const items = accountsOnShard(config, 0, 3).map((a, i) => item(a, BigInt(i + 1), `r${i}`));
    expect((await backend.updateMany(items)).map(localIdOf)).toEqual([1n, 2n, 3n]);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const s of seen) expect(s.commands).toEqual(seen[0]!.commands);
  });

  it("a shard that gives no answer fails only its own items, each with update's outcome-unknown wording naming its transaction", async () => {
    const { backend, config } = await cluster(2, 2);
    const [slow, fast] = fake.nodes as [FakeNode, FakeNode];
    slow.onPropose = (_req, ctx) => hang(ctx);
    fast.onPropose = async (req) => answerBatch(req, fast.id);
    const [s0a, s0b] = accountsOnShard(config, 0, 2);
    const [s1] = accountsOnShard(config, 1, 1);
    const items = [item(s0a!, 1n, "pay-1"), item(s1!, 2n), item(s0b!, 3n, "pay-3")];
    const outcomes = await backend.updateMany(items, { deadlineMs: Date.now() + 400 });

    expect(localIdOf(outcomes[1]!)).toBe(2n);
    for (const [i, requestId] of [
      [0, "pay-1"],
      [2, "pay-3"],
    ] as const) {
      const e = outcomes[i];
      expect(e).toBeInstanceOf(LedgerError);
      const error = e as LedgerError;
      expect(error.code).toBe("DEADLINE_EXCEEDED");
      expect(error.message).toContain(
        `CreateTransaction of transaction ${formatTransactionId({ accountId: items[i]!.accountId, localId: BigInt(i + 1) })}`,
      );
      expect(error.message).toContain(`retrying with the same request_id "${requestId}" is safe`);
    }
  });

  it("a definite error from a shard (INVALID_ARGUMENT) is each of its items' error", async () => {
    const { backend, config } = await cluster(1, 1);
    fake.nodes[0]!.onPropose = () =>
      Promise.reject(new LedgerError("INVALID_ARGUMENT", "commands[1] is not a valid ledger.core.v1.Command"));
    const items = accountsOnShard(config, 0, 2).map((a, i) => item(a, BigInt(i + 1)));
    const outcomes = await backend.updateMany(items);
    for (const o of outcomes)
      expect(o).toMatchObject({
        code: "INVALID_ARGUMENT",
        message: "commands[1] is not a valid ledger.core.v1.Command",
      });
  });

  it("a result without a kind (the shard refused that command at apply) is that item's INTERNAL error; the others keep their results", async () => {
    const { backend, config } = await cluster(1, 1);
    fake.nodes[0]!.onPropose = async (req) => {
      const answer = answerBatch(req, "node01");
      answer.results[0] = new Uint8Array(0);
      return answer;
    };
    const items = accountsOnShard(config, 0, 2).map((a, i) => item(a, BigInt(i + 1)));
    const outcomes = await backend.updateMany(items);
    expect(outcomes[0]).toMatchObject({ code: "INTERNAL" });
    expect(localIdOf(outcomes[1]!)).toBe(2n);
  });

  it("refuses settle and cancel commands: a retried batch is only safe for creates", async () => {
    const { backend, config } = await cluster(1, 1);
    const [a] = accountsOnShard(config, 0, 1);
    await expect(
      backend.updateMany([{ accountId: a!, command: settleTransactionCommand(now, { accountId: a!, localId: 1n }) }]),
    ).rejects.toBeInstanceOf(AssertionError);
  });

  it("an undecodable result from one shard fails only that item; the other shard's item keeps its result", async () => {
    const { backend, config } = await cluster(2, 2);
    for (const node of fake.nodes) {
      node.onPropose = async (req) => {
        const answer = answerBatch(req, node.id);
        if (req.shardId === config.shards[0]!.id) answer.results[0] = new Uint8Array([0xff, 0xff, 0xff]);
        return answer;
      };
    }
    const [a0] = accountsOnShard(config, 0, 1);
    const [a1] = accountsOnShard(config, 1, 1);
    const items = [a0!, a1!].map((accountId, i) => item(accountId, BigInt(i + 1), `r-${i}`));
    // Resolves, not rejects: one shard's bad answer must not discard the other shard's outcomes.
    const settled = await backend.updateMany(items, { deadlineMs: Date.now() + 10_000 }).then(
      (outcomes) => ({ outcomes }),
      (e: unknown) => ({ rejected: `${e instanceof LedgerError ? "LedgerError" : "non-LedgerError"}: ${String(e)}` }),
    );
    expect(settled).not.toHaveProperty("rejected");
    const { outcomes } = settled as { outcomes: Awaited<ReturnType<ClusterBackend["updateMany"]>> };
    expect(outcomes[0]).toBeInstanceOf(LedgerError);
    const second = outcomes[1];
    expect(second instanceof LedgerError ? second.message : second?.kind.case).toBe("transaction");
  });

  it("a batch answer with the wrong number of results: each item's error says its outcome is unknown, with its request_id advice", async () => {
    // The node answered, so the entry was applied: the items may have been applied.
    const { backend, config } = await cluster(1, 1);
    fake.nodes[0]!.onPropose = async (req) => {
      const answer = answerBatch(req, fake.nodes[0]!.id);
      answer.results.pop();
      return answer;
    };
    const items = accountsOnShard(config, 0, 2).map((accountId, i) => item(accountId, BigInt(i + 1), `r-${i}`));
    const outcomes = await backend.updateMany(items, { deadlineMs: Date.now() + 10_000 });
    for (const [i, o] of outcomes.entries()) {
      expect(o).toBeInstanceOf(LedgerError);
      const e = o as LedgerError;
      expect(e.message, e.message).toMatch(/outcome (is )?unknown/);
      expect(e.message, e.message).toContain(`retrying with the same request_id "r-${i}" is safe`);
    }
  });

  it("a batch in flight when the gateway closes: each item's error says its outcome is unknown, with its request_id advice", async () => {
    const { backend, config } = await cluster(1, 1);
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    fake.nodes[0]!.onPropose = (_req, ctx) => {
      received();
      return hang(ctx);
    };
    const items = [1n, 2n].map((accountId) => item(accountId, accountId + 100n, `pay-${accountId}`));
    expect(items.every((i) => shardForAccount(config, i.accountId).id === "shard-00")).toBe(true);
    const pending = backend.updateMany(items, { deadlineMs: Date.now() + 20_000 });
    await arrived; // the batch reached the node: it may be appended and applied
    await backend.close();
    const outcomes = await pending;
    for (const [i, o] of outcomes.entries()) {
      expect(o).toBeInstanceOf(LedgerError);
      const e = o as LedgerError;
      expect(e.message, e.message).toMatch(/outcome (is )?unknown/);
      expect(e.message, e.message).toContain(`retrying with the same request_id "pay-${i + 1}" is safe`);
    }
  });
});
