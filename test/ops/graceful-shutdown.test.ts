// Graceful shutdown of a node as real processes: SIGTERM to the node that leads the most shards
// while clients write through the gateway. The tests run in order on one cluster; each is one
// step of the scenario and states what that step proves. Then SIGTERM to a node of its own that
// is still starting up.

import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatClusterConfig, generateClusterConfig, type NodeId, type ShardId } from "../../src/cluster/config.js";
import { ReplicaRole } from "../../src/gen/ledger/node/v1/node_pb.js";
import { autoCleanup } from "../support/cleanup.js";
import { requestIdOnShard, useCluster } from "../support/cluster-processes.js";
import { ConcurrentWriters } from "../support/concurrent-writers.js";
import { findFreePort } from "../support/free-port.js";
import { parseJsonObject, startTsProcess, type Exit } from "../support/processes.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup("all");

const shardCount = 6;
const writerCount = 3;
/** Acknowledged writes before the stop: the load is on when the SIGTERM lands. */
const acksBeforeStop = 30;
/** "Exits within a bound": the drain is bounded at 5 s and in-flight calls at 3 s; the rest
 * (closing the DB, tsx teardown) is quick. Generous for a loaded 2-core machine. */
const exitMsMax = 20_000;
const writerRetryPauseMs = 50;

const { running, reported } = useCluster({ shards: shardCount });

function logEntries(lines: readonly string[]): Record<string, unknown>[] {
  return lines.map(parseJsonObject).filter((e): e is Record<string, unknown> => e !== undefined);
}

describe("SIGTERM of the node leading the most shards, under write load", () => {
  let writers: ConcurrentWriters | undefined;
  let victim: NodeId | undefined;
  let led: ShardId[] = [];
  let exit: Exit | undefined;
  let exitMs = 0;
  let victimLog: Record<string, unknown>[] = [];

  afterAll(async () => {
    await writers?.stop();
  });

  it(
    `exits 0 within ${exitMsMax / 1000} s`,
    reported(async () => {
      const c = running();
      const setup = c.gatewayClient(15_000);
      const accountIds: string[] = [];
      for (const [i, s] of c.shardIds.entries())
        accountIds.push((await setup.createAccount({ requestId: requestIdOnShard(c.config, s, `graceful-${i}`) })).id);
      writers = new ConcurrentWriters(
        Array.from({ length: writerCount }, () => c.gatewayClient(30_000)),
        accountIds.map((id) => ({ id })),
        { requestIdPrefix: "graceful-", timeoutMs: 10_000, retryPauseMs: writerRetryPauseMs },
      );
      await writers.waitForAcks(() => true, acksBeforeStop, 30_000);

      const leaders = await c.waitForLeaders();
      const counts = new Map<NodeId, number>();
      for (const node of leaders.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
      victim = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
      const proc = c.nodeProcess(victim)!;
      const stoppedAtMs = Date.now();
      exit = await c.killNode(victim, "SIGTERM");
      exitMs = Date.now() - stoppedAtMs;
      victimLog = logEntries(proc.stdoutLines);
      // What it led when the stop began (its own leadership may have moved since the snapshot above).
      const drained = victimLog.find((e) => e.msg === "drained: this node leads no shard");
      led = (drained?.shards as ShardId[] | undefined) ?? [];
      expect(exit, proc.report()).toEqual({ code: 0, signal: null });
      expect(exitMs).toBeLessThanOrEqual(exitMsMax);
    }),
    120_000,
  );

  it(
    "hands every shard it led to another node before exiting (its log and the other nodes agree)",
    reported(async () => {
      const c = running();
      if (victim === undefined || exit === undefined) throw new Error("the stop step did not run");
      const stopped = victim;
      const drained = victimLog.find((e) => e.msg === "drained: this node leads no shard");
      expect(drained, "the node's log says it drained").toBeDefined();
      expect(victimLog.some((e) => e.msg?.toString().startsWith("could not hand over"))).toBe(false);
      expect(led.length).toBeGreaterThan(0);
      const stoppedLine = victimLog.find((e) => e.msg === "stopped");
      expect(stoppedLine).toBeDefined();
      const exitTime = stoppedLine!.time as number;
      // Each shard it led got a leader on another node, who logged it before the victim stopped.
      for (const shardId of led) {
        const tookOver = c.liveNodeIds.some((node) =>
          logEntries(c.nodeProcess(node)!.stdoutLines).some(
            (e) =>
              e.msg === "replica role changed" &&
              e.shard === shardId &&
              e.role === "leader" &&
              (e.time as number) <= exitTime,
          ),
        );
        expect(tookOver, `${shardId} got a leader on another node before ${stopped} exited`).toBe(true);
      }
      // And the other nodes report those leaders now.
      for (const node of c.liveNodeIds) {
        for (const state of await c.replicaStates(node)) {
          if (!led.includes(state.shardId)) continue;
          expect(state.leaderNodeId, `${state.shardId} on ${node}`).not.toBe(stopped);
          expect(state.leaderNodeId, `${state.shardId} on ${node}`).not.toBe("");
          if (state.leaderNodeId === node) expect(state.role).toBe(ReplicaRole.LEADER);
        }
      }
    }),
    60_000,
  );

  it(
    "fails writes during the stop only with retryable codes, and keeps every acknowledged write",
    reported(async () => {
      const c = running();
      if (!writers) throw new Error("the stop step did not run");
      // Writes go on after the stop: the shards it led serve from their new leaders.
      const since = Date.now();
      await writers.waitForAcks((a) => a.atMs > since, 10, 30_000);
      await writers.stop();
      for (const f of writers.failures) expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"], f.message).toContain(f.code);
      const client = c.gatewayClient(15_000);
      for (const { transaction } of writers.acks)
        expect(await client.getTransaction(transaction.id)).toEqual(transaction);
    }),
    120_000,
  );

  it(
    "restarts with nothing committed left to replay (applied == commit on every replica), and converges",
    reported(async () => {
      const c = running();
      if (victim === undefined) throw new Error("the stop step did not run");
      const proc = await c.startNode(victim);
      const loaded = logEntries(proc.stdoutLines).filter((e) => e.msg === "replica loaded");
      expect(loaded.length).toBe(c.shardIds.filter((s) => c.shard(s).replicas.some((r) => r.nodeId === victim)).length);
      for (const line of loaded)
        expect([line.shard, line.applied], JSON.stringify(line)).toEqual([line.shard, line.commit]);
      const converged = await c.waitForConvergence(c.shardIds, 60_000);
      expect(converged.size).toBe(shardCount);
    }),
    120_000,
  );
});

describe("SIGTERM of a node still starting up", () => {
  it("exits 0 when SIGTERM arrives before it listens (here: while it reads its cluster config)", async () => {
    const dir = await makeTempDir("graceful-shutdown-");
    const config = formatClusterConfig(
      generateClusterConfig({ nodes: 1, shards: 2, replicationFactor: 1, basePort: await findFreePort() }),
    );
    // A FIFO as the config file holds the process in start-up until the test writes the config.
    const fifo = join(dir, "cluster_config.fifo");
    execFileSync("mkfifo", [fifo]);
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      fifo,
      "--data-dir",
      join(dir, "data"),
      "--insecure",
    ]);
    // Opening the write end completes once the node has opened the read end: it is starting.
    const opening = open(fifo, "w");
    const first = await Promise.race([
      opening.then(() => "opened" as const),
      proc.exited.then(() => "exited" as const),
    ]);
    if (first === "exited") {
      // Unblock our own open before failing, so no thread of this process stays stuck on the FIFO.
      const reader = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      await (await opening).close();
      await reader.close();
      throw new Error(`the node exited before it read its config: ${proc.report()}`);
    }
    const writer = await opening;
    try {
      proc.signal("SIGTERM");
      // Whatever the node does with the signal, let its read finish so nothing stays blocked.
      await writer.write(config).catch(() => undefined);
    } finally {
      await writer.close().catch(() => undefined);
    }
    expect(await proc.waitForExit(30_000), proc.report()).toEqual({ code: 0, signal: null });
  }, 60_000);
});
