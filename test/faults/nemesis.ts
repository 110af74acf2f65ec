// The nemesis: injects one fault at a time into a proxied test cluster, holds it, heals it, and
// records what it did. Faults: SIGKILL and restart of a node, SIGSTOP/SIGCONT of a node, a node
// cut off both ways, a one-way cut between two nodes, slow links around a node, reset
// connections, and a gateway restart. Randomness comes from one seed, so a schedule can be
// replayed (timings of the processes themselves still vary).

import type { Prng } from "../../src/base/prng.js";
import type { NodeId } from "../../src/cluster/config.js";
import type { TestCluster } from "../support/cluster-processes.js";
import type { LinkMode, TcpProxy } from "../support/tcp-proxy.js";

export const faultKinds = ["kill", "pause", "isolate", "one-way", "slow", "reset", "gateway"] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface FaultRecord {
  kind: FaultKind;
  /** What it hit: "node02", "node01>node03", "gateway". */
  target: string;
  startMs: number;
  endMs: number;
}

export interface FaultTimings {
  /** How long a fault is held, at least and at most. */
  holdMsMin: number;
  holdMsMax: number;
}

/** Long enough to outlast an election timeout (10-20 ticks of 100 ms) for most draws. */
export const defaultFaultTimings: FaultTimings = { holdMsMin: 500, holdMsMax: 4_000 };

export class Nemesis {
  readonly record: FaultRecord[] = [];
  private readonly paused = new Set<NodeId>();

  constructor(
    private readonly cluster: TestCluster,
    private readonly random: Prng,
    private readonly timings: FaultTimings = defaultFaultTimings,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Injects one fault of `kind` (random if not given), holds it, heals it. */
  async strike(kind: FaultKind = this.pick(faultKinds)): Promise<FaultRecord> {
    const c = this.cluster;
    const node = this.pick(c.nodeIds);
    const holdMs = this.timings.holdMsMin + this.random.intBelow(this.timings.holdMsMax - this.timings.holdMsMin + 1);
    const startMs = Date.now();
    let target = node as string;
    this.log(`fault ${kind} starts`);
    switch (kind) {
      case "kill":
        await c.killNode(node, "SIGKILL");
        await delay(holdMs);
        await c.startNode(node);
        break;
      case "pause": {
        const proc = c.nodeProcess(node);
        if (proc === undefined) throw new Error(`${node} is not running`);
        proc.child.kill("SIGSTOP");
        this.paused.add(node);
        try {
          await delay(holdMs);
        } finally {
          proc.child.kill("SIGCONT");
          this.paused.delete(node);
        }
        break;
      }
      case "isolate":
        await this.holdLinks(this.linksOf(node), { kind: "cut" }, holdMs);
        break;
      case "one-way": {
        const to = this.pick(c.nodeIds.filter((n) => n !== node));
        target = `${node}>${to}`;
        await this.holdLinks([c.link(node, to)], { kind: "cut" }, holdMs);
        break;
      }
      case "slow": {
        const delayMs = 20 + this.random.intBelow(181);
        target = `${node} +${delayMs}ms`;
        await this.holdLinks(this.linksOf(node), { kind: "pass", delayMs }, holdMs);
        break;
      }
      case "reset":
        for (const { proxy } of c.allLinks()) proxy.resetAll();
        target = "all links";
        break;
      case "gateway":
        target = "gateway";
        await c.restartGateway(this.random.intBelow(2) === 0 ? "SIGKILL" : "SIGTERM");
        break;
    }
    const record = {
      kind,
      target: `${target} for ${kind === "reset" || kind === "gateway" ? 0 : holdMs} ms`,
      startMs,
      endMs: Date.now(),
    };
    this.record.push(record);
    this.log(`fault ${kind} on ${record.target} healed`);
    return record;
  }

  /** Ends any fault left in place (a failed strike): links pass, paused nodes continue. */
  healAll(): void {
    for (const { proxy } of this.cluster.allLinks()) proxy.setMode({ kind: "pass" });
    for (const node of this.paused) this.cluster.nodeProcess(node)?.child.kill("SIGCONT");
    this.paused.clear();
  }

  /** How many faults of each kind were injected. */
  counts(): Record<FaultKind, number> {
    const counts = Object.fromEntries(faultKinds.map((k) => [k, 0])) as Record<FaultKind, number>;
    for (const r of this.record) counts[r.kind]++;
    return counts;
  }

  private linksOf(node: NodeId): TcpProxy[] {
    const c = this.cluster;
    return c.nodeIds.filter((n) => n !== node).flatMap((other) => [c.link(node, other), c.link(other, node)]);
  }

  private async holdLinks(links: TcpProxy[], mode: LinkMode, holdMs: number): Promise<void> {
    for (const l of links) l.setMode(mode);
    try {
      await delay(holdMs);
    } finally {
      for (const l of links) l.setMode({ kind: "pass" });
    }
  }

  private pick<T>(items: readonly T[]): T {
    const item = items[this.random.intBelow(items.length)];
    if (item === undefined) throw new Error("nothing to pick from");
    return item;
  }
}

/** Holding a fault for a while is the point here: a timer, not a wait for an event. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
