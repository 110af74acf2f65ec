// Review of issue 7's status page: a deposed leader that is the only one claiming leadership, a
// deposed leader's lag as the page shows it, request rates under a wall clock that steps back,
// and the operations HTTP server facing a request target that is not a URL.

import { connect } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chromium } from "playwright-core";
import { formatClusterConfig, type NodeId } from "../../src/cluster/config.js";
import { ReplicaRole } from "../../src/gen/ledger/node/v1/node_pb.js";
import { assembleClusterStatus, type NodeReport } from "../../src/gateway/cluster-status.js";
import { RequestRates } from "../../src/gateway/request-rates.js";
import { statusPageHtml } from "../../src/gateway/status-page/page-html.js";
import { autoCleanup } from "../support/cleanup.js";
import { oneShardConfig, replicaState } from "../support/replica-state-fixtures.js";
import { findFreePort } from "../support/free-port.js";
import { startTsProcess } from "../support/processes.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

const config = oneShardConfig;

describe("assembleClusterStatus (review)", () => {
  it("does not name as leader a deposed replica whose term a live replica has moved past under another leader", () => {
    // node03 won term 7 (node02 follows it) and then became unreachable; node01, cut off since
    // term 6, still believes it leads. A majority has moved to term 7: node01 leads nothing.
    const reports = new Map<NodeId, NodeReport>([
      [
        "node01",
        {
          ok: true,
          replicas: [
            replicaState("node01", { role: ReplicaRole.LEADER, term: 6n, applied: 90n, leaderNodeId: "node01" }),
          ],
        },
      ],
      [
        "node02",
        {
          ok: true,
          replicas: [
            replicaState("node02", { role: ReplicaRole.FOLLOWER, term: 7n, applied: 120n, leaderNodeId: "node03" }),
          ],
        },
      ],
      ["node03", { ok: false, reason: "DEADLINE_EXCEEDED: no answer" }],
    ]);
    const status = assembleClusterStatus(config, reports, Date.UTC(2026, 0, 1));
    expect(status.shards[0]!.leader).not.toBe("node01");
    expect(status.nodes.find((n) => n.id === "node01")!.leads).toBe(0);
  });
});

describe("the status page's script (review)", () => {
  it("shows the lag of a replica that still says leader at an older term than the shard's leader", async () => {
    const reports = new Map<NodeId, NodeReport>([
      [
        "node01",
        {
          ok: true,
          replicas: [
            replicaState("node01", { role: ReplicaRole.LEADER, term: 6n, applied: 20n, leaderNodeId: "node01" }),
          ],
        },
      ],
      [
        "node02",
        {
          ok: true,
          replicas: [
            replicaState("node02", { role: ReplicaRole.LEADER, term: 7n, applied: 25n, leaderNodeId: "node02" }),
          ],
        },
      ],
      [
        "node03",
        {
          ok: true,
          replicas: [
            replicaState("node03", { role: ReplicaRole.FOLLOWER, term: 7n, applied: 25n, leaderNodeId: "node02" }),
          ],
        },
      ],
    ]);
    const cluster = assembleClusterStatus(config, reports, Date.now());
    expect(cluster.shards[0]).toMatchObject({ leader: "node02" });
    const document = {
      ...cluster,
      servedAt: new Date().toISOString(),
      requests: new RequestRates(5, 32, 0).snapshot(10_000),
    };
    const origin = "http://status-page.review.test";
    const userDataDir = await makeTempDir("review-status-chromium-");
    const browserArgs = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ];
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: browserArgs,
    });
    try {
      // The page and its JSON come from the test, not from a gateway: no network involved.
      await context.route(`${origin}/**`, (route) => {
        const json = new URL(route.request().url()).pathname === "/status.json";
        return route.fulfill(
          json
            ? { status: 200, contentType: "application/json", body: JSON.stringify(document) }
            : {
                status: 200,
                contentType: "text/html; charset=utf-8",
                body: statusPageHtml({ refreshMs: 1000, fetchTimeoutMs: 3000 }),
              },
        );
      });
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${origin}/`);
      const cell = page.locator('tr[data-shard] td[data-replica-node="node01"]');
      await cell.waitFor({ timeout: 20_000 });
      expect(await cell.getAttribute("data-lag")).toBe("5");
      expect(await cell.innerText()).toContain("lag 5");
    } finally {
      await context.close();
    }
  }, 60_000);
});

describe("RequestRates (review)", () => {
  it("keeps the current second's calls when a call is observed with a wall clock that stepped back", () => {
    const rates = new RequestRates(5, 32, 0);
    for (let i = 0; i < 10; i++) rates.observe("CreateAccount", "OK", 100_500);
    // An NTP step of about six seconds back: second 94 shares second 100's slot in the 6-slot ring.
    rates.observe("GetAccount", "OK", 94_900);
    const calls = rates.snapshot(100_600).byMethod.find((m) => m.method === "CreateAccount")?.calls ?? 0;
    expect(calls).toBe(10);
  });
});

/** Sends one raw HTTP/1.1 request and resolves with everything the server wrote before closing
 * (or "" if it closed without a reply, or what arrived within timeoutMs). */
function rawRequest(port: number, requestLine: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(data));
  });
}

describe("the gateway's operations HTTP server (review)", () => {
  it("answers a request whose target is not a valid URL with 400 and keeps serving", async () => {
    // Nodes on closed ports: the status page shows them down, which is all this test needs.
    const nodes = await Promise.all(
      config.nodes.map(async (n) => ({ ...n, address: `127.0.0.1:${await findFreePort()}` })),
    );
    const path = join(await makeTempDir(), "cluster_config.json");
    await writeFile(path, formatClusterConfig({ ...config, nodes }));
    const gateway = startTsProcess(
      "cmd/gateway.ts",
      ["--port", "0", "--metrics-port", "0", "--cluster-config", path, "--log-format", "json", "--insecure"],
      { name: "gateway" },
    );
    const listening = await gateway.waitForJson((e) => e.msg === "listening" && typeof e.http === "string", 30_000);
    const port = Number(String(listening.http).split(":").at(-1));
    // "//[" passes Node's HTTP parser but is not a URL that `new URL(..., base)` accepts.
    const reply = await rawRequest(port, "GET //[ HTTP/1.1", 10_000);
    expect(reply.split("\r\n")[0], gateway.report(10)).toMatch(/^HTTP\/1\.1 400 /);
    const after = await fetch(`http://127.0.0.1:${port}/status.json`);
    expect(after.status).toBe(200);
    expect(gateway.exit).toBeUndefined();
  }, 60_000);
});
