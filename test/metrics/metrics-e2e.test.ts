// /metrics of real processes: a 3-node cluster with 2 shards and a gateway, each with an HTTP
// port. After calls through the gateway, the gateway's exposition counts them by method and code,
// and every node's shows its replicas' indexes and roles, proposals, fsyncs and NodeService calls.

import { describe, expect, it } from "vitest";
import type { NodeId } from "../../src/cluster/config.js";
import { autoCleanup } from "../support/cleanup.js";
import { useCluster } from "../support/cluster-processes.js";
import { ledgerRejection as rejection } from "../support/rejection.js";
import { parseExposition, samplesOf, sampleValue, type Exposition } from "./exposition.js";

autoCleanup("all");

const accounts = 5;
const leadersAgreeMs = 30_000;
const { running, reported } = useCluster({ shards: 2, http: true });

async function fetchMetrics(address: string): Promise<Exposition> {
  const response = await fetch(`http://${address}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

const sum = (e: Exposition, name: string, labels: Record<string, string> = {}): number =>
  samplesOf(e, name, labels).reduce((a, s) => a + s.value, 0);

describe("metrics of a running cluster (3 nodes, 2 shards, gateway)", () => {
  it(
    "the gateway counts its calls by method and code, and every node reports its replicas, proposals, fsyncs and NodeService calls",
    reported(async () => {
      const c = running();
      await c.waitForLeaders();
      const client = c.gatewayClient(15_000);
      const created = [];
      for (let i = 0; i < accounts; i++) created.push(await client.createAccount());
      const first = created[0];
      if (first === undefined) throw new Error("no account created");
      await client.createTransaction({ accountId: first.id, amount: 100n, settled: true });
      expect((await rejection(client.getAccount("7fffffffffff0001"))).code).toBe("NOT_FOUND");
      const writes = accounts + 1;
      const converged = await c.waitForConvergence();
      // Leadership may still move toward the preferred replicas: wait for scrapes taken after the
      // cluster's answer to name the same leaders.
      const scrapes = await c.waitUntil(
        "every node's /metrics names the leaders the nodes report",
        leadersAgreeMs,
        async () => {
          const leaders = await c.waitForLeaders();
          const out = new Map<NodeId, Exposition>();
          for (const nodeId of c.nodeIds) out.set(nodeId, await fetchMetrics(c.httpAddress(nodeId)));
          for (const shardId of c.shardIds) {
            const leading = c.nodeIds.filter(
              (n) =>
                sampleValue(out.get(n) as Exposition, "ledger_replica_role", { shard: shardId, role: "leader" }) === 1,
            );
            if (leading.length !== 1 || leading[0] !== leaders.get(shardId))
              return {
                done: false,
                why: `${shardId}: metrics show leaders [${leading.join(", ")}], nodes report ${leaders.get(shardId) ?? "none"}`,
              };
          }
          return { done: true, value: out };
        },
      );

      const gateway = await fetchMetrics(c.httpAddress("gateway"));
      expect(sampleValue(gateway, "ledger_grpc_server_handled_total", { method: "CreateAccount", code: "OK" })).toBe(
        accounts,
      );
      expect(
        sampleValue(gateway, "ledger_grpc_server_handled_total", { method: "CreateTransaction", code: "OK" }),
      ).toBe(1);
      expect(
        sampleValue(gateway, "ledger_grpc_server_handled_total", { method: "GetAccount", code: "NOT_FOUND" }),
      ).toBe(1);
      expect(
        sampleValue(gateway, "ledger_grpc_server_handling_seconds_count", { method: "CreateAccount", code: "OK" }),
      ).toBe(accounts);
      const createSeconds = sampleValue(gateway, "ledger_grpc_server_handling_seconds_sum", {
        method: "CreateAccount",
        code: "OK",
      });
      expect(createSeconds).toBeGreaterThan(0);
      expect(createSeconds).toBeLessThan(accounts * 15);
      expect(sampleValue(gateway, "process_cpu_seconds_total")).toBeGreaterThan(0);

      let proposalsApplied = 0;
      let proposeCalls = 0;
      for (const [nodeId, e] of scrapes) {
        expect(sampleValue(e, "ledger_node_info", { node: nodeId })).toBe(1);
        for (const shardId of c.shardIds) {
          const s = { shard: shardId };
          const applied = sampleValue(e, "ledger_replica_applied_index", s);
          expect(applied).toBeGreaterThanOrEqual(Number(converged.get(shardId)?.appliedIndex ?? 1));
          expect(sampleValue(e, "ledger_replica_commit_index", s)).toBeGreaterThanOrEqual(applied);
          expect(sampleValue(e, "ledger_replica_last_index", s)).toBeGreaterThanOrEqual(applied);
          expect(sampleValue(e, "ledger_replica_term", s)).toBeGreaterThanOrEqual(1);
          expect(sum(e, "ledger_replica_role", s)).toBe(1);
          expect(sampleValue(e, "ledger_leader_changes_total", s)).toBeGreaterThanOrEqual(1);
        }
        expect(sampleValue(e, "ledger_fsync_seconds_count")).toBeGreaterThan(0);
        expect(sampleValue(e, "ledger_fsync_batch_groups_count")).toBe(sampleValue(e, "ledger_fsync_seconds_count"));
        for (const peer of c.nodeIds.filter((n) => n !== nodeId))
          expect(sampleValue(e, "ledger_peer_stream_up", { peer })).toBe(1);
        proposalsApplied += sampleValue(e, "ledger_proposals_total", { outcome: "applied" });
        proposeCalls += sum(e, "ledger_grpc_server_handled_total", { method: "Propose", code: "OK" });
      }
      // Each write the gateway made was proposed on its shard's leader and applied there once
      // (more only if a call was retried).
      expect(proposalsApplied).toBeGreaterThanOrEqual(writes);
      expect(proposeCalls).toBeGreaterThanOrEqual(writes);
    }),
    120_000,
  );
});
