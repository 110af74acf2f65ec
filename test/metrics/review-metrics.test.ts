// Review of issue 7 (metrics): ledger_proposals_total must count every proposal a node refuses,
// including those refused because the node is shutting down (its help text lists "shutting
// down" under refused).

import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { isLedgerError } from "../../src/base/errors.js";
import { generateClusterConfig } from "../../src/cluster/config.js";
import { createNodeMetrics } from "../../src/metrics/node-metrics.js";
import { NodeHost } from "../../src/node/node-host.js";
import { autoCleanup } from "../support/cleanup.js";
import { findFreePort } from "../support/free-port.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { parseExposition, sampleValue } from "./exposition.js";
import { insecureTransport } from "../../src/security/transport-security.js";

autoCleanup();

describe("ledger_proposals_total on a node that is shutting down", () => {
  let host: NodeHost | undefined;
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });

  it("counts a proposal refused because the node is shutting down as outcome refused", async () => {
    const config = generateClusterConfig({ nodes: 1, shards: 1, replicationFactor: 1, basePort: await findFreePort() });
    const metrics = createNodeMetrics("node01");
    host = await NodeHost.open({
      config,
      nodeId: "node01",
      security: insecureTransport(),
      dataDir: await makeTempDir("review-metrics-"),
      logger: createLogger({ name: "node01", level: "silent" }),
      observer: metrics.observer,
    });
    metrics.attach(host);
    const replica = [...host.replicas.values()][0]!;
    await host.close();

    let refusal: unknown;
    try {
      await host.propose(replica, new Uint8Array([1]), Date.now() + 1_000);
    } catch (e) {
      refusal = e;
    }
    // The node says it certainly did not apply it...
    expect(isLedgerError(refusal) && refusal.details.applied).toBe("no");
    // ...and its metrics say the same.
    const route = metrics.routes["/metrics"]!;
    const reply = await route({} as never);
    const exposition = parseExposition(String(reply.body));
    expect(sampleValue(exposition, "ledger_proposals_total", { outcome: "refused" })).toBe(1);
  });
});
