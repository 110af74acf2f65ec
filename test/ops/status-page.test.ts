// The gateway's live status page in headless Chromium, against a real 3-node, 16-shard cluster:
// it shows every node up and every shard led, counts the calls made through the gateway, shows a
// killed node down by refreshing itself, and says so when it can no longer refresh. The tests
// run in order on one cluster and one browser page; each is one step of the scenario.
// The page is read through its data-* attributes (its contract with tests), waiting for its own
// refreshes with a deadline; on a timeout the failure carries the page's text.
// Then, in a second page of the same browser, the page's script fed a hand-made document (no
// gateway involved): how it shows a deposed leader's lag.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rm } from "node:fs/promises";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { NodeId } from "../../src/cluster/config.js";
import { assembleClusterStatus, type NodeReport } from "../../src/gateway/cluster-status.js";
import { RequestRates } from "../../src/gateway/request-rates.js";
import { statusPageHtml } from "../../src/gateway/status-page/page-html.js";
import { ReplicaRole } from "../../src/gen/ledger/node/v1/node_pb.js";
import { autoCleanup } from "../support/cleanup.js";
import { useCluster } from "../support/cluster-processes.js";
import { oneShardConfig, replicaState } from "../support/replica-state-fixtures.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup("all");

const shardCount = 16;
/** First load: the gateway asks three nodes that may still be electing leaders on a busy machine. */
const firstViewMsMax = 30_000;
/** The page refreshes every second from a cache of at most half a second; a killed node refuses
 * connections at once. Generous for a loaded 2-core machine. */
const changeShownMsMax = 15_000;
/** A new leader for each of the killed node's shards: elections time out after 1-2 s. */
const reelectionShownMsMax = 30_000;
const browserArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

const { running, reported } = useCluster({ shards: shardCount, http: true });

let context: BrowserContext | undefined;
let userDataDir: string | undefined;
let page: Page | undefined;
/** Uncaught errors of the page's script. */
const pageErrors: string[] = [];

beforeAll(async () => {
  userDataDir = await makeTempDir("status-page-chromium-");
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: browserArgs,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
}, 60_000);

afterAll(async () => {
  // Before the cluster's and the temp dirs' own cleanup: Chromium holds files in its profile.
  try {
    await context?.close();
  } finally {
    if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
  }
});

function openPage(): Page {
  if (!page) throw new Error("the browser did not start");
  return page;
}

function openContext(): BrowserContext {
  if (!context) throw new Error("the browser did not start");
  return context;
}

/** Waits until `condition` (a JavaScript expression run in the page) holds, re-checking as the page changes. */
async function waitForPage(p: Page, what: string, condition: string, timeoutMs: number): Promise<void> {
  try {
    await p.waitForFunction(condition, undefined, { timeout: timeoutMs, polling: 100 });
  } catch (e) {
    const text = await p.evaluate("document.body.innerText").catch(() => "(page text unavailable)");
    throw new Error(
      `the page did not show ${what} within ${timeoutMs} ms (${(e as Error).message.split("\n")[0]})\npage text:\n${String(text)}`,
    );
  }
}

interface NodeRow {
  id: string;
  state: string;
  leads: number;
}

interface ShardRow {
  id: string;
  leader: string;
  replicas: { node: string; state: string; role: string | null }[];
}

async function nodeRows(p: Page): Promise<NodeRow[]> {
  return (await p.evaluate(
    `[...document.querySelectorAll("tr[data-node]")].map((row) => ({ id: row.dataset.node, state: row.dataset.state, leads: Number(row.dataset.leads) }))`,
  )) as NodeRow[];
}

async function shardRows(p: Page): Promise<ShardRow[]> {
  return (await p.evaluate(
    `[...document.querySelectorAll("tr[data-shard]")].map((row) => ({
      id: row.dataset.shard,
      leader: row.dataset.leader,
      replicas: [...row.querySelectorAll("td[data-replica-node]")].map((cell) => ({ node: cell.dataset.replicaNode, state: cell.dataset.state, role: cell.dataset.role ?? null })),
    }))`,
  )) as ShardRow[];
}

describe("the gateway's status page in headless Chromium", () => {
  it(
    "loads and shows 3 nodes up and 16 shards, each with a leader that is one of its replicas",
    reported(async () => {
      const cluster = running();
      await cluster.waitForLeaders();
      const p = openPage();
      const response = await p.goto(`http://${cluster.httpAddress("gateway")}/`);
      expect(response?.status()).toBe(200);
      expect(await p.title()).toBe("Ledger cluster status");
      await waitForPage(
        p,
        "3 nodes up and 16 shards with a leader",
        `document.querySelectorAll('tr[data-node][data-state="up"]').length === 3 &&
         document.querySelectorAll("tr[data-shard]").length === ${shardCount} &&
         [...document.querySelectorAll("tr[data-shard]")].every((row) => row.dataset.leader !== "")`,
        firstViewMsMax,
      );
      const nodes = await nodeRows(p);
      expect(nodes.map((n) => [n.id, n.state])).toEqual(cluster.nodeIds.map((id) => [id, "up"]));
      expect(nodes.reduce((sum, n) => sum + n.leads, 0)).toBe(shardCount);
      const shards = await shardRows(p);
      expect(shards.map((s) => s.id)).toEqual(cluster.shardIds);
      for (const shard of shards) {
        expect(cluster.shard(shard.id).replicas.map((r) => r.nodeId)).toContain(shard.leader);
        expect(shard.replicas.find((r) => r.node === shard.leader)).toMatchObject({ state: "up", role: "leader" });
      }
      expect(await p.locator("#summary").innerText()).toContain(
        `3 of 3 nodes up · ${shardCount} of ${shardCount} shards have a leader`,
      );
      expect(await p.locator("#refreshed").innerText()).toMatch(/^Last refreshed at /);
      // The cluster runs with TLS and keys (the default): no insecure warning.
      expect(await p.evaluate("document.body.dataset.security")).toBe("tls");
      expect(await p.locator("#insecure").isHidden()).toBe(true);
      expect(pageErrors).toEqual([]);
    }),
    120_000,
  );

  it(
    "shows a non-zero request rate, by method, after calls through the gateway",
    reported(async () => {
      const cluster = running();
      const client = cluster.gatewayClient();
      const p = openPage();
      const bothShown = `Number(document.getElementById("rates").dataset.callsPerSecond) > 0 &&
         document.querySelector('tr[data-method="CreateAccount"]') !== null &&
         document.querySelector('tr[data-method="GetAccount"]') !== null`;
      // The page averages over a few seconds: on a loaded machine the calls of one burst can
      // leave the window before a refresh shows them all, so keep calling until it does.
      const deadline = Date.now() + changeShownMsMax;
      for (;;) {
        const account = await client.createAccount();
        await client.getAccount(account.id);
        const shown = await p
          .waitForFunction(bothShown, undefined, { timeout: 2_000, polling: 100 })
          .then(() => true)
          .catch(() => false);
        if (shown) break;
        if (Date.now() > deadline) {
          // Fails with the page's text, unless the page has just caught up.
          await waitForPage(p, "calls of CreateAccount and GetAccount", bothShown, 1);
          break;
        }
      }
      expect(await p.locator("#rates").innerText()).toMatch(
        /^\d+(\.\d)? calls\/s over the last [\d.]+ s; errors 0\.0\/s \(0\.0% of calls\)$/,
      );
      expect(
        Number(await p.locator('tr[data-method="CreateAccount"]').getAttribute("data-calls-per-second")),
      ).toBeGreaterThan(0);
    }),
    60_000,
  );

  it(
    "shows a killed node down, with its replicas down, and then every shard led by the remaining nodes",
    reported(async () => {
      const cluster = running();
      const victim = cluster.nodeIds[1]!;
      await cluster.killNode(victim);
      const p = openPage();
      await waitForPage(
        p,
        `${victim} down`,
        `document.querySelector('tr[data-node="${victim}"]')?.dataset.state === "down" &&
         document.querySelectorAll('td[data-replica-node="${victim}"][data-state="down"]').length === ${shardCount}`,
        changeShownMsMax,
      );
      expect(await p.locator(`tr[data-node="${victim}"]`).innerText()).toMatch(/down: UNAVAILABLE: /);
      await waitForPage(
        p,
        "every shard led by a live node",
        `[...document.querySelectorAll("tr[data-shard]")].every((row) => row.dataset.leader !== "" && row.dataset.leader !== "${victim}")`,
        reelectionShownMsMax,
      );
      const live = cluster.nodeIds.filter((id) => id !== victim);
      expect((await nodeRows(p)).filter((n) => n.state === "up").map((n) => n.id)).toEqual(live);
      for (const shard of await shardRows(p)) expect(live).toContain(shard.leader);
      // A call just before the snapshot, so the quoted text shows traffic too.
      await cluster.gatewayClient().createAccount();
      await waitForPage(
        p,
        "a request rate",
        `Number(document.getElementById("rates").dataset.callsPerSecond) > 0`,
        changeShownMsMax,
      );
      console.log(`status page text with ${victim} killed:\n${String(await p.evaluate("document.body.innerText"))}`);
      expect(pageErrors).toEqual([]);
    }),
    120_000,
  );

  it(
    "says it cannot refresh, and keeps the last data, once the gateway is gone",
    reported(async () => {
      const cluster = running();
      await cluster.stopGateway();
      const p = openPage();
      await waitForPage(
        p,
        "that it cannot refresh",
        `document.body.dataset.status === "error" && !document.getElementById("problem").hidden`,
        changeShownMsMax,
      );
      expect(await p.locator("#problem").innerText()).toMatch(/^Cannot refresh: .+\. Showing the data from \S+\.$/);
      expect(await p.locator("tr[data-shard]").count()).toBe(shardCount);
      expect(pageErrors).toEqual([]);
    }),
    60_000,
  );
});

describe("the status page's script, fed a document", () => {
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
    const cluster = assembleClusterStatus(oneShardConfig, reports, Date.now());
    expect(cluster.shards[0]).toMatchObject({ leader: "node02" });
    const document = {
      ...cluster,
      servedAt: new Date().toISOString(),
      requests: new RequestRates(5, 32, 0).snapshot(10_000),
    };
    const origin = "http://status-page.fed.test";
    const p = await openContext().newPage();
    try {
      // The page and its JSON come from the test, not from a gateway: no network involved.
      await p.route(`${origin}/**`, (route) => {
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
      await p.goto(`${origin}/`);
      const cell = p.locator('tr[data-shard] td[data-replica-node="node01"]');
      await cell.waitFor({ timeout: 20_000 });
      expect(await cell.getAttribute("data-lag")).toBe("5");
      expect(await cell.innerText()).toContain("lag 5");
    } finally {
      await p.close();
    }
  }, 60_000);
});
