// The faults of a whole-cluster simulation, drawn from the run's seed: partitions (a node cut
// off, a minority and a majority, one-way links, the gateway cut off from a node), crashes with
// restarts (one node, or every node at once), stretches of a lossy network, and malformed
// proposals on the internal API. One fault at a time is struck; partitions and lossy stretches
// last until the next heal.

import type { NodeId } from "../../src/cluster/config.js";
import type { SimNetwork, NetworkProfile } from "./sim-network.js";
import type { SimNode } from "./sim-node.js";
import type { SimWorld } from "./world.js";

export type SimFault =
  | "isolate"
  | "split"
  | "one-way"
  | "gateway-cut"
  | "crash"
  | "crash-all"
  | "lossy"
  | "rogue-proposal"
  | "heal";

const faults: readonly SimFault[] = [
  "isolate",
  "split",
  "one-way",
  "gateway-cut",
  "crash",
  "crash-all",
  "lossy",
  "rogue-proposal",
  "heal",
];
/** Relative weights, in the order of `faults`. */
const weights = [3, 2, 2, 1, 4, 1, 2, 2, 3];

export class SimNemesis {
  readonly counts = new Map<SimFault, number>(faults.map((f) => [f, 0]));

  constructor(
    private readonly world: SimWorld,
    private readonly network: SimNetwork,
    private readonly nodes: ReadonlyMap<NodeId, SimNode>,
    private readonly calmProfile: NetworkProfile,
    private readonly restartDelayMsMax: number,
    private readonly trace: (line: string) => void,
    private readonly rogueProposal: () => void,
  ) {}

  strike(): void {
    const fault = this.pick();
    this.counts.set(fault, (this.counts.get(fault) ?? 0) + 1);
    const ids = [...this.nodes.keys()];
    const r = this.world.random;
    const anyNode = (): NodeId => ids[r.intBelow(ids.length)]!;
    switch (fault) {
      case "isolate": {
        const n = anyNode();
        for (const other of ids) if (other !== n) this.cut(n, other);
        this.trace(`isolate ${n}`);
        break;
      }
      case "split": {
        const shuffled = [...ids];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = r.intBelow(i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const minority = shuffled.slice(0, 1 + r.intBelow(Math.floor((ids.length - 1) / 2)));
        for (const a of minority) for (const b of ids) if (!minority.includes(b)) this.cut(a, b);
        this.trace(`split [${minority.join(",")}] from the rest`);
        break;
      }
      case "one-way": {
        const from = anyNode();
        const to = ids.filter((x) => x !== from)[r.intBelow(ids.length - 1)]!;
        this.network.block(from, to);
        this.trace(`one-way block ${from} -> ${to}`);
        break;
      }
      case "gateway-cut": {
        const n = anyNode();
        this.network.block("gateway", n);
        if (r.intBelow(2) === 0) this.network.block(n, "gateway");
        this.trace(`gateway cut from ${n}`);
        break;
      }
      case "crash": {
        const live = ids.filter((id) => this.nodes.get(id)!.up);
        if (live.length === 0) break;
        this.crash(live[r.intBelow(live.length)]!);
        break;
      }
      case "crash-all":
        for (const id of ids) this.crash(id);
        break;
      case "lossy": {
        const profile: NetworkProfile = {
          latencyMs: this.calmProfile.latencyMs + r.float() * 20,
          jitterMs: r.float() * 30,
          loss: r.float() * 0.3,
          duplication: r.float() * 0.1,
        };
        this.network.setProfile(profile);
        this.trace(`lossy network: ${JSON.stringify(profile)}`);
        break;
      }
      case "rogue-proposal":
        this.rogueProposal();
        break;
      case "heal":
        this.heal();
        break;
    }
  }

  /** Ends partitions and lossy stretches (crashed nodes restart on their own timers). */
  heal(): void {
    this.network.healAll();
    this.network.setProfile(this.calmProfile);
    this.trace("heal");
  }

  private cut(a: string, b: string): void {
    this.network.block(a, b);
    this.network.block(b, a);
  }

  private crash(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (!node.up) return;
    node.crash();
    const delay = 100 + this.world.random.intBelow(this.restartDelayMsMax);
    this.world.at(delay, () => void node.start());
  }

  private pick(): SimFault {
    const total = weights.reduce((a, b) => a + b, 0);
    let roll = this.world.random.intBelow(total);
    for (const [i, f] of faults.entries()) {
      roll -= weights[i]!;
      if (roll < 0) return f;
    }
    return "heal";
  }
}
