// Prometheus metrics of a node: what the loop reports as it works (loop-metrics), what the
// replicas hold at scrape time (replica-gauges), its NodeService calls (call-metrics) and the
// standard process metrics, in one registry of its own.

import { Counter } from "prom-client";
import type { HttpRoute } from "../ops/http-server.js";
import type { CallObserver } from "../transport/grpc-service.js";
import type { NodeHost } from "../node/node-host.js";
import type { NodeObserver } from "../node/node-observer.js";
import { callMetrics } from "./call-metrics.js";
import { loopMetrics } from "./loop-metrics.js";
import { metricsRoutes, newMetricsRegistry } from "./metrics-registry.js";
import { replicaGauges } from "./replica-gauges.js";

export interface NodeMetrics {
  /** Passed to NodeHost.open: the loop's events. */
  observer: NodeObserver;
  /** Told of every finished NodeService call. */
  observeCall: CallObserver;
  /** Told of every peer batch or snapshot dropped because its claimed sender (from_node_id) is
   * not the node its TLS certificate names. */
  observeIdentityMismatch(certified: string): void;
  /** Gauges read from the host at each scrape. Call before host.start(). */
  attach(host: NodeHost): void;
  /** "/metrics". */
  routes: Record<string, HttpRoute>;
}

export function createNodeMetrics(nodeId: string): NodeMetrics {
  const registry = newMetricsRegistry();
  const loop = loopMetrics(registry);
  const gauges = replicaGauges(registry, nodeId);
  // Labelled by the certificate's node (bounded: the CA's nodes), never by the claimed sender.
  const mismatches = new Counter({
    name: "ledger_peer_identity_mismatches_total",
    help: "Peer message batches and snapshots dropped because their from_node_id is not the node their TLS certificate names",
    labelNames: ["peer"],
    registers: [registry],
  });
  return {
    observeIdentityMismatch: (certified) => mismatches.inc({ peer: certified }),
    observer: loop.observer,
    observeCall: callMetrics(registry, "NodeService"),
    attach(host) {
      loop.attach(host);
      gauges.attach(host);
    },
    routes: metricsRoutes(registry),
  };
}
