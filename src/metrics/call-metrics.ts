// Request metrics of a gRPC server (a node's NodeService, the gateway's LedgerService): a latency
// histogram and a counter by method and status code. The code is "OK" or our error code
// (NOT_LEADER stays distinct from UNAVAILABLE), as addUnaryService reports it.

import { Counter, Histogram, type Registry } from "prom-client";
import { metricsCallBucketsSeconds } from "./limits.js";
import type { CallObserver } from "../transport/grpc-service.js";

interface CallSeries {
  seconds: Histogram.Internal<"method" | "code">;
  handled: Counter.Internal;
}

export function callMetrics(registry: Registry, service: string): CallObserver {
  const seconds = new Histogram({
    name: "ledger_grpc_server_handling_seconds",
    help: `Seconds from receiving a ${service} call to sending its reply (including time spent waiting for Raft, retries and fsync), by method and status code ("OK" or the error code).`,
    labelNames: ["method", "code"] as const,
    buckets: [...metricsCallBucketsSeconds],
    registers: [registry],
  });
  const handled = new Counter({
    name: "ledger_grpc_server_handled_total",
    help: `${service} calls completed, by method and status code ("OK" or the error code).`,
    labelNames: ["method", "code"] as const,
    registers: [registry],
  });
  // Bound children by method, then code: a call looks its series up without building a key.
  const byMethod = new Map<string, Map<string, CallSeries>>();
  return (method, code, elapsedSeconds) => {
    let byCode = byMethod.get(method);
    if (byCode === undefined) byMethod.set(method, (byCode = new Map()));
    let series = byCode.get(code);
    if (series === undefined)
      byCode.set(code, (series = { seconds: seconds.labels(method, code), handled: handled.labels(method, code) }));
    series.seconds.observe(elapsedSeconds);
    series.handled.inc();
  };
}
