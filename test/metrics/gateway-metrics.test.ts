// The gateway's /metrics as its gRPC server reports calls to it: a counter and a latency
// histogram per method and status code, in the text exposition format with its content type.

import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { metricsCallBucketsSeconds } from "../../src/metrics/limits.js";
import { createGatewayMetrics, type GatewayMetrics } from "../../src/metrics/gateway-metrics.js";
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
