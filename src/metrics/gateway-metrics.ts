// Prometheus metrics of the gateway: its LedgerService calls (latency and count by method and
// status code) and the standard process metrics. The gateway is stateless: the cluster's own
// state is on the nodes' /metrics.

import type { HttpRoute } from "../ops/http-server.js";
import type { CallObserver } from "../transport/grpc-service.js";
import { callMetrics } from "./call-metrics.js";
import { metricsRoutes, newMetricsRegistry } from "./metrics-registry.js";

export interface GatewayMetrics {
  /** Told of every finished LedgerService call. */
  observeCall: CallObserver;
  /** "/metrics". */
  routes: Record<string, HttpRoute>;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = newMetricsRegistry();
  return {
    observeCall: callMetrics(registry, "LedgerService"),
    routes: metricsRoutes(registry),
  };
}
