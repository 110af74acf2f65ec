// NodeStates: how the status page gathers the nodes' replica states (fake nodes, fed clock),
// and the page's routes against nodes that are not there at all.

import { NodeAdminClients } from "../../src/gateway/node-admin.js";
import { insecureChannel } from "../../src/transport/channel-security.js";
import { afterAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import type { IncomingMessage } from "node:http";
import { createLogger } from "../../src/base/logger.js";
import { LedgerError } from "../../src/base/errors.js";
import { statusReasonCharsMax } from "../../src/ops/limits.js";
import {
  generateClusterConfig,
  parseClusterConfig,
  type ClusterConfig,
  type NodeConfig,
} from "../../src/cluster/config.js";
import { ReplicaRole, ReplicaStateSchema, type ReplicaState } from "../../src/gen/ledger/node/v1/node_pb.js";
import { NodeStates } from "../../src/gateway/status-page/node-states.js";
import { describeFailure } from "../../src/ops/shard-view.js";
import { createStatusPage, type StatusDocument } from "../../src/gateway/status-page.js";
import { findFreePort } from "../support/free-port.js";

const config = generateClusterConfig({ nodes: 3, shards: 2, replicationFactor: 3, basePort: 7000 });
const logger = createLogger({ name: "status-test", level: "silent" });

/** Every replica of `node` a follower (node01 leads everything). */
function statesOf(node: NodeConfig): ReplicaState[] {
  return config.shards.map((shard) =>
    create(ReplicaStateSchema, {
      shardId: shard.id,
      replicaId: BigInt(shard.replicas.find((r) => r.nodeId === node.id)!.id),
      role: node.id === "node01" ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER,
      term: 1n,
      appliedIndex: 5n,
      commitIndex: 5n,
      caughtUp: true,
    }),
  );
}

/** Fake nodes whose answers the test releases by hand, counting the calls. */
function controlledNodes() {
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const askNode = (node: NodeConfig): Promise<readonly ReplicaState[]> => {
    calls.push(node.id);
    return new Promise((resolve, reject) => {
      pending.push(() =>
        node.id === "node03"
          ? reject(new LedgerError("UNAVAILABLE", "connect ECONNREFUSED 127.0.0.1:7002"))
          : resolve(statesOf(node)),
      );
    });
  };
  const releaseAll = (): void => {
    for (const release of pending.splice(0)) release();
  };
  return { calls, askNode, releaseAll };
}

describe("NodeStates", () => {
  it("asks every node once per gathering, however many callers arrive while it runs, and reuses the result for cacheMs", async () => {
    let now = 1_000_000;
    const nodes = controlledNodes();
    const states = new NodeStates({ config, logger, askNode: nodes.askNode, nowMs: () => now, cacheMs: 500 });
    const callers = [states.current(), states.current(), states.current()];
    expect(nodes.calls).toEqual(["node01", "node02", "node03"]);
    nodes.releaseAll();
    const [first, second, third] = await Promise.all(callers);
    expect(second).toBe(first);
    expect(third).toBe(first);
    now += 499;
    expect(await states.current()).toBe(first);
    expect(nodes.calls).toHaveLength(3);
    now += 1;
    const refreshed = states.current();
    expect(nodes.calls).toHaveLength(6);
    nodes.releaseAll();
    expect(await refreshed).not.toBe(first);
    states.close();
  });

  it("shows a node whose call fails as down with the error's code and message, and the others up", async () => {
    const nodes = controlledNodes();
    const states = new NodeStates({ config, logger, askNode: nodes.askNode });
    const pending = states.current();
    nodes.releaseAll();
    const status = await pending;
    expect(status.nodes.map((n) => [n.id, n.state, n.reason])).toEqual([
      ["node01", "up", undefined],
      ["node02", "up", undefined],
      ["node03", "down", "UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7002"],
    ]);
    expect(status.shards.every((s) => s.leader === "node01")).toBe(true);
    states.close();
    await expect(states.current()).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("describes a failure in one line of bounded length", () => {
    const reason = describeFailure(new LedgerError("DEADLINE_EXCEEDED", `no answer\n  within ${"x".repeat(500)}`));
    expect(reason.startsWith("DEADLINE_EXCEEDED: no answer within xxx")).toBe(true);
    expect(reason).not.toContain("\n");
    expect(reason.length).toBe(statusReasonCharsMax);
  });

  it("escapes the control characters of a node's error text, so none reaches a terminal", () => {
    const reason = describeFailure(new LedgerError("UNAVAILABLE", "\x1b[2J\x1b[31mbroken\x07 \x9b"));
    expect(reason).toBe("UNAVAILABLE: \\x1b[2J\\x1b[31mbroken\\x07 \\x9b");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none.
    expect(reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it("reduces grpc-js's no-connection message to its cause", () => {
    const grpcJs =
      "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:37031. Resolution note: ";
    expect(describeFailure(new LedgerError("UNAVAILABLE", grpcJs))).toBe(
      "UNAVAILABLE: no connection (connect ECONNREFUSED 127.0.0.1:37031)",
    );
  });
});

const admins: NodeAdminClients[] = [];
afterAll(() => {
  for (const a of admins) a.close();
});

/** Plain-TCP admin channels to the config's nodes (closed after the file's tests). */
function adminOf(c: ClusterConfig): NodeAdminClients {
  const admin = new NodeAdminClients(c, () => insecureChannel, 1_000);
  admins.push(admin);
  return admin;
}

describe("createStatusPage routes", () => {
  it("serve a self-contained page whose script parses", async () => {
    const page = createStatusPage({ config, logger, securityMode: "tls", admin: adminOf(config) });
    try {
      const reply = await page.routes["/"]!({} as IncomingMessage);
      expect(reply.contentType).toBe("text/html; charset=utf-8");
      const html = String(reply.body);
      // Nothing from elsewhere: the machines operators use may have no internet access.
      expect(html).not.toMatch(/https?:\/\/|<link|src=/i);
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
      expect(scripts).toHaveLength(1);
      expect(() => new Function(scripts[0]!)).not.toThrow();
      for (const id of ["summary", "nodes", "shards", "rates", "refreshed", "problem", "insecure"])
        expect(html).toContain(`id="${id}"`);
    } finally {
      page.close();
    }
  });

  it("answer /status.json with unreachable nodes down and the calls observed counted", async () => {
    // Free ports with nothing listening: every node's call is refused at once.
    const ports = [await findFreePort(), await findFreePort(), await findFreePort()];
    const unreachable = parseClusterConfig(
      { ...config, nodes: config.nodes.map((n, i) => ({ ...n, address: `127.0.0.1:${ports[i]}` })) },
      "test config",
    );
    const page = createStatusPage({
      config: unreachable,
      logger,
      securityMode: "insecure",
      admin: adminOf(unreachable),
    });
    try {
      page.observeCall("CreateAccount", "OK", 0.01);
      page.observeCall("CreateAccount", "OK", 0.01);
      page.observeCall("GetAccount", "NOT_FOUND", 0.01);
      const reply = await page.routes["/status.json"]!({} as IncomingMessage);
      expect(reply.contentType).toBe("application/json; charset=utf-8");
      const document = JSON.parse(String(reply.body)) as StatusDocument;
      expect(document.summary).toEqual({ nodes: 3, nodesUp: 0, shards: 2, shardsWithLeader: 0 });
      expect(document.security).toBe("insecure");
      for (const node of document.nodes)
        expect(node).toMatchObject({ state: "down", reason: expect.stringMatching(/^UNAVAILABLE: /) });
      expect(document.requests).toMatchObject({
        calls: 3,
        errors: 1,
        byCode: [
          { code: "OK", calls: 2 },
          { code: "NOT_FOUND", calls: 1 },
        ],
      });
      expect(document.requests.callsPerSecond).toBeGreaterThan(0);
    } finally {
      page.close();
    }
  });

  it("answer /status.json with 503 once closed (the gateway is shutting down)", async () => {
    const page = createStatusPage({ config, logger, securityMode: "tls", admin: adminOf(config) });
    page.close();
    expect(await page.routes["/status.json"]!({} as IncomingMessage)).toMatchObject({
      status: 503,
      body: "the gateway is shutting down\n",
    });
  });
});
