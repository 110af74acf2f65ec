// Review of the cluster gateway (issue 4): ClusterBackend against scripted fake nodes. Each test
// names the behaviour the gateway should have; each failed before the fix of its finding in the
// review of issue 4.

import { afterEach, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { LedgerError } from "../../src/base/errors.js";
import { createLogger } from "../../src/base/logger.js";
import type { ClusterConfig } from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import { ClusterBackend } from "../../src/gateway/cluster-backend.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import { CommandResultSchema, type CommandResult } from "../../src/gen/ledger/core/v1/core_pb.js";
import { answerCommand, decodeCommand, fakeClusterConfig, hang, startFakeNodes, stopNodes, type FakeNode } from "./fake-nodes.js";
import { ledgerRejection as rejection } from "../support/rejection.js";

const now = 1_700_000_000_000_000_000n;

let nodes: FakeNode[] = [];
let backends: ClusterBackend[] = [];

afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  stopNodes(nodes);
  backends = [];
  nodes = [];
});

async function cluster(count: number): Promise<{ backend: ClusterBackend; config: ClusterConfig }> {
  nodes = await startFakeNodes(count);
  const config = fakeClusterConfig(nodes, 1);
  const logger = createLogger({ name: "review-gateway", level: "silent" });
  const backend = new ClusterBackend({ config, logger, random: () => 0.5 });
  backends.push(backend);
  return { backend, config };
}

function accountOnShard0(config: ClusterConfig): bigint {
  const wanted = config.shards[0]!.id;
  for (let id = 1n; ; id++) if (shardForAccount(config, id).id === wanted) return id;
}

function accountResult(id: bigint): CommandResult {
  return create(CommandResultSchema, { kind: { case: "account", value: { id, createdAt: now, updatedAt: now } } });
}

describe("review: gateway retries", () => {
  it("an update whose cached leader hangs (paused node) is retried on a replica that answers, and succeeds within its deadline", async () => {
    const { backend, config } = await cluster(3);
    const [n1, n2] = nodes as [FakeNode, FakeNode];
    n1.onPropose = (_req, ctx) => hang(ctx);
    n2.onPropose = async (req) => {
      const c = decodeCommand(req.command);
      return answerCommand(accountResult(c.kind.case === "createAccount" ? c.kind.value.accountId : 0n));
    };
    const account = accountOnShard0(config);
    // Two seconds: longer than an election (1-2 s) would need to move the leader off a paused node.
    const outcome = await backend.update(account, createAccountCommand(now, account, "r1"), { deadlineMs: Date.now() + 2_000 }).then(
      (r) => r,
      (e: unknown) => (e instanceof LedgerError ? `${e.code}: ${e.message}` : e),
    );
    // Before the fix: the one attempt to node01 carries the whole call deadline (shard-caller.ts
    // attempt -> cluster-backend.ts send with deadlineMs), so node02 is never asked.
    expect(outcome).toEqual(accountResult(account));
    expect(n2.proposals.length).toBe(1);
  });

  it("an update that may have been applied by an earlier attempt and then meets a definite node error says its outcome is unknown", async () => {
    const { backend, config } = await cluster(3);
    const [n1, n2] = nodes as [FakeNode, FakeNode];
    // Sent, no details.applied = "no": the proposal may have been appended on node01.
    n1.onPropose = async () => Promise.reject(new LedgerError("UNAVAILABLE", "leader stepped down after appending"));
    // Any code retryActionFor maps to "fail" (INTERNAL, NOT_FOUND, FAILED_PRECONDITION, ...).
    n2.onPropose = async () => Promise.reject(new LedgerError("INTERNAL", "node02: unexpected raft error"));
    const account = accountOnShard0(config);
    const error = await rejection(backend.update(account, createAccountCommand(now, account, "r2"), { deadlineMs: Date.now() + 1_000 }));
    // Before the fix: shard-caller.ts `if (action.kind === "fail") throw error;` passes node02's bare
    // INTERNAL on, though log.mayHaveApplied is true: the caller is not told the first attempt may
    // have been applied nor that a retry with the same request_id is safe.
    expect(error.message).toMatch(/outcome (is )?unknown/);
  });

  it("after the cached leader and then its replacement each hold a call to its deadline, the next call goes to the replica not yet tried, not back to the first", async () => {
    const { backend, config } = await cluster(3);
    const [n1, n2, n3] = nodes as [FakeNode, FakeNode, FakeNode];
    // node01 paused; node02 still forwards to it (no election yet) so it holds calls too.
    n1.onPropose = (_req, ctx) => hang(ctx);
    n2.onPropose = (_req, ctx) => hang(ctx);
    n3.onPropose = async (req) => {
      const c = decodeCommand(req.command);
      return answerCommand(accountResult(c.kind.case === "createAccount" ? c.kind.value.accountId : 0n));
    };
    const account = accountOnShard0(config);
    const first = await rejection(backend.update(account, createAccountCommand(now, account, "d1"), { deadlineMs: Date.now() + 150 }));
    expect(first.code).toBe("DEADLINE_EXCEEDED");
    expect(backend.cachedLeader("shard-00")).toBe("node02");
    const second = await rejection(backend.update(account, createAccountCommand(now, account, "d2"), { deadlineMs: Date.now() + 150 }));
    expect(second.code).toBe("DEADLINE_EXCEEDED");
    // Before the fix: leader-cache.ts demote() picks candidates(shard)[1], i.e. the first other node
    // in replica order, which is node01 again; node03 is never tried and calls ping-pong between
    // the two silent nodes, each costing a full deadline.
    expect(backend.cachedLeader("shard-00")).toBe("node03");
    expect(n3.proposals.length).toBe(0);
  });
});
