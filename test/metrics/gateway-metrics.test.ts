// The gateway's /metrics as its gRPC server reports calls to it: a counter and a latency
// histogram per method and status code, in the text exposition format with its content type.
// CreateTransactions items are counted apart, by code, fed by the public service as it answers:
// a call whose items fail still answers OK and counts as one OK call.

import type { IncomingMessage } from "node:http";
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import { CreateTransactionRequestSchema, LedgerService } from "../../src/gen/ledger/v1/ledger_pb.js";
import { formatAccountId } from "../../src/ledger/ids.js";
import { metricsCallBucketsSeconds } from "../../src/metrics/limits.js";
import { createGatewayMetrics, type GatewayMetrics } from "../../src/metrics/gateway-metrics.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { createUnaryClient, type UnaryClient } from "../../src/transport/grpc-service.js";
import { MemoryBackend } from "../gateway/memory-backend.js";
import { parseExposition, samplesOf, sampleValue, type Exposition } from "./exposition.js";

async function scrape(metrics: GatewayMetrics): Promise<{ contentType: string; exposition: Exposition }> {
  const route = metrics.routes["/metrics"];
  if (route === undefined) throw new Error("no /metrics route");
  const reply = await route({} as IncomingMessage);
  return { contentType: reply.contentType, exposition: parseExposition(String(reply.body)) };
}

describe("gateway metrics", () => {
  it("counts calls and their latency by method and status code, NOT_LEADER apart from UNAVAILABLE", async () => {
    const metrics = createGatewayMetrics();
    for (const seconds of [0.002, 0.004, 0.3]) metrics.observeCall("CreateAccount", "OK", seconds);
    metrics.observeCall("CreateAccount", "NOT_LEADER", 0.01);
    metrics.observeCall("CreateAccount", "UNAVAILABLE", 2);
    metrics.observeCall("GetAccount", "NOT_FOUND", 0.0001);

    const { contentType, exposition: e } = await scrape(metrics);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const handled = (method: string, code: string): number =>
      sampleValue(e, "ledger_grpc_server_handled_total", { method, code });
    expect(handled("CreateAccount", "OK")).toBe(3);
    expect(handled("CreateAccount", "NOT_LEADER")).toBe(1);
    expect(handled("CreateAccount", "UNAVAILABLE")).toBe(1);
    expect(handled("GetAccount", "NOT_FOUND")).toBe(1);
    expect(samplesOf(e, "ledger_grpc_server_handled_total")).toHaveLength(4);

    const ok = { method: "CreateAccount", code: "OK" };
    expect(sampleValue(e, "ledger_grpc_server_handling_seconds_count", ok)).toBe(3);
    expect(sampleValue(e, "ledger_grpc_server_handling_seconds_sum", ok)).toBeCloseTo(0.306, 9);
    // Cumulative buckets: two calls within 5 ms, all three within 0.5 s.
    expect(sampleValue(e, "ledger_grpc_server_handling_seconds_bucket", { ...ok, le: "0.005" })).toBe(2);
    expect(sampleValue(e, "ledger_grpc_server_handling_seconds_bucket", { ...ok, le: "0.25" })).toBe(2);
    expect(sampleValue(e, "ledger_grpc_server_handling_seconds_bucket", { ...ok, le: "0.5" })).toBe(3);
    expect(sampleValue(e, "ledger_grpc_server_handling_seconds_bucket", { ...ok, le: "+Inf" })).toBe(3);
    expect(samplesOf(e, "ledger_grpc_server_handling_seconds_bucket", ok)).toHaveLength(
      metricsCallBucketsSeconds.length + 1,
    );
    expect(e.types.get("ledger_grpc_server_handling_seconds")).toBe("histogram");
    expect(e.types.get("ledger_grpc_server_handled_total")).toBe("counter");
    // prom-client's standard process metrics, under their usual names.
    expect(sampleValue(e, "process_cpu_seconds_total")).toBeGreaterThan(0);
  });

  it("keeps each instance's counts to itself (a registry per instance, not the global one)", async () => {
    const a = createGatewayMetrics();
    const b = createGatewayMetrics();
    a.observeCall("GetAccount", "OK", 0.001);
    a.observeCall("GetAccount", "OK", 0.001);
    b.observeCall("GetAccount", "OK", 0.001);
    expect(
      sampleValue((await scrape(a)).exposition, "ledger_grpc_server_handled_total", {
        method: "GetAccount",
        code: "OK",
      }),
    ).toBe(2);
    expect(
      sampleValue((await scrape(b)).exposition, "ledger_grpc_server_handled_total", {
        method: "GetAccount",
        code: "OK",
      }),
    ).toBe(1);
  });
});

describe("gateway metrics: CreateTransactions items", () => {
  let server: LedgerServer | undefined;
  let client: UnaryClient<typeof LedgerService> | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.shutdown(1_000);
    server = undefined;
  });

  it("counts each item by outcome while the call counts as one OK call", async () => {
    const metrics = createGatewayMetrics();
    const logger = createLogger({ name: "gateway-metrics", level: "silent" });
    let random = 0x9000n;
    server = await startLedgerServer({
      security: insecureTransport(),
      apiKeys: undefined,
      backend: new MemoryBackend(),
      host: "127.0.0.1",
      port: 0,
      logger,
      deps: { now: () => 1_700_000_000_000_000_000n, randomU64: () => (random += 1n), logger },
      observe: metrics.observeCall,
      observeBatchItem: metrics.observeBatchItem,
    });
    client = createUnaryClient(LedgerService, server.address, { defaultDeadlineMs: 10_000 });
    const accountId = (await client.createAccount({ $typeName: "ledger.v1.CreateAccountRequest", requestId: "" }))
      .account!.id;
    const item = (fields: { accountId: string; amount: bigint }) =>
      create(CreateTransactionRequestSchema, { settled: true, ...fields });
    const response = await client.createTransactions({
      $typeName: "ledger.v1.CreateTransactionsRequest",
      transactions: [
        item({ accountId, amount: 10n }),
        item({ accountId, amount: 0n }), // INVALID_ARGUMENT, never sent
        item({ accountId: formatAccountId(0x1234n), amount: 5n }), // NOT_FOUND from the core
        item({ accountId, amount: 20n }),
      ],
    });
    expect(response.results.map((r) => (r.outcome.case === "error" ? r.outcome.value.code : r.outcome.case))).toEqual([
      "transaction",
      "INVALID_ARGUMENT",
      "NOT_FOUND",
      "transaction",
    ]);

    const { exposition: e } = await scrape(metrics);
    const items = (code: string): number => sampleValue(e, "ledger_gateway_batch_items_total", { code });
    expect(items("OK")).toBe(2);
    expect(items("INVALID_ARGUMENT")).toBe(1);
    expect(items("NOT_FOUND")).toBe(1);
    expect(samplesOf(e, "ledger_gateway_batch_items_total")).toHaveLength(3);
    expect(e.types.get("ledger_gateway_batch_items_total")).toBe("counter");
    expect(sampleValue(e, "ledger_grpc_server_handled_total", { method: "CreateTransactions", code: "OK" })).toBe(1);
  });
});
