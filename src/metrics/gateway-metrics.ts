// Prometheus metrics of the gateway (prom-client): filled in by the metrics work of issue 7.

import type { HttpRoute } from "../ops/http-server.js";
import type { CallObserver } from "../transport/grpc-service.js";

export interface GatewayMetrics {
  /** Told of every finished LedgerService call. */
  observeCall: CallObserver;
  /** "/metrics". */
  routes: Record<string, HttpRoute>;
}

export function createGatewayMetrics(): GatewayMetrics {
  return {
    observeCall: () => undefined,
    routes: { "/metrics": () => ({ contentType: "text/plain; version=0.0.4", body: "" }) },
  };
}
