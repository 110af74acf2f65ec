// The faults of a whole-cluster simulation, drawn from the run's seed: partitions (a node cut
// off, a minority and a majority, one-way links, the gateway cut off from a node), crashes with
// restarts (one node, or every node at once), stretches of a lossy network, links that hold
// some batches for a long while, a node bounced two to four times in quick succession while its incoming
// links lag (so answers meant for one incarnation reach the next), and malformed proposals on
// the internal API, and membership changes of a shard (a voter demoted to learner, a learner
// promoted back, through NodeHost.changeMembership on the leader). One fault at a time is
// struck; partitions, lags and lossy stretches last until the next heal.

import type { NodeId } from "../../src/cluster/config.js";
import { ConfChangeType, type ConfChange } from "../../src/raft/index.js";
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
  | "lag"
  | "bounce"
  | "rogue-proposal"
  | "membership"
  | "heal";

const faults: readonly SimFault[] = [
  "isolate",
  "split",
  "one-way",
  "gateway-cut",
  "crash",
  "crash-all",
  "lossy",
  "lag",
  "bounce",
  "rogue-proposal",
  "membership",
  "heal",
];
/** Relative weights, in the order of `faults`. */
const weights = [3, 2, 2, 1, 4, 1, 2, 2, 2, 3, 4, 3];
/** A membership change the nemesis asks for must be applied within this long, or it is left. */
const membershipDeadlineMs = 3_000;
/** A bounced node is down this long (a supervisor restarting a process at once). */
const bounceDownMsMax = 60;
/** A bounced node's first restart lives this long before the second crash. */
const bounceLifeMsMin = 100;
const bounceLifeMsMax = 800;

export class SimNemesis {
  private calmed = false;
  readonly counts = new Map<SimFault, number>(faults.map((f) => [f, 0]));
  /** Membership changes asked by the nemesis that were applied (the rest were refused or late). */
  membershipApplied = 0;

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
      case "lag": {
        const to = anyNode();
        const both = r.intBelow(2) === 0;
        this.lagAround(to, both, 0.1 + r.float() * 0.4);
        this.trace(`links into ${to}${both ? " and out of it" : ""} lag`);
        break;
      }
      case "bounce": {
        const live = ids.filter((id) => this.nodes.get(id)!.up);
        if (live.length === 0) break;
        const n = live[r.intBelow(live.length)]!;
        // Its requests held too, so an answer meant for the previous incarnation can land while
        // the new one still waits for its own.
        this.lagAround(n, true, 0.5 + r.float() * 0.4);
        const times = 2 + r.intBelow(3);
        this.trace(`bounce ${n} ${times} times while its links lag`);
        this.crash(n, bounceDownMsMax);
        let at = 0;
        for (let i = 1; i < times; i++) {
          at += bounceDownMsMax + bounceLifeMsMin + r.intBelow(bounceLifeMsMax - bounceLifeMsMin);
          this.world.at(at, () => {
            if (!this.calmed) this.crash(n, bounceDownMsMax);
          });
        }
        break;
      }
      case "rogue-proposal":
        this.rogueProposal();
        break;
      case "membership":
        this.changeMembership();
        break;
      case "heal":
        this.heal();
        break;
    }
  }

  /** The chaos is over: faults already scheduled (a bounce's later restarts) do not strike. */
  calm(): void {
    this.calmed = true;
    this.heal();
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

  /** Some batches from every other node to `n` (and, `both`, from `n` to them) are held for up
   * to 1.5 s. */
  private lagAround(n: NodeId, both: boolean, chance: number): void {
    const lag = { chance, holdMsMax: 200 + this.world.random.intBelow(1_300) };
    for (const other of this.nodes.keys()) {
      if (other === n) continue;
      this.network.lag(other, n, lag);
      if (both) this.network.lag(n, other, lag);
    }
  }

  /**
   * On a shard's leader: promote a learner back to voter if the shard has one, else demote a
   * random other voter to learner (keeping two voters). Same replica ids, same nodes: the
   * membership moves while every replica keeps applying. Refusals (a change still pending, no
   * commit yet in a new leader's term) and deadlines are part of the weather.
   */
  private changeMembership(): void {
    const r = this.world.random;
    const leaders = [...this.nodes.values()].flatMap((n) =>
      n.host === undefined
        ? []
        : [...n.host.replicas.values()].filter((x) => x.isLeader).map((replica) => ({ host: n.host!, replica })),
    );
    if (leaders.length === 0) return;
    const pick = leaders[r.intBelow(leaders.length)]!;
    const cs = pick.replica.raw.confState();
    let cc: ConfChange;
    const learner = cs.learners[0];
    if (learner !== undefined) cc = { type: ConfChangeType.AddVoter, replicaId: learner };
    else {
      const others = cs.voters.filter((id) => id !== pick.replica.replicaId);
      if (cs.voters.length <= 2 || others.length === 0) return;
      cc = { type: ConfChangeType.AddLearner, replicaId: others[r.intBelow(others.length)]! };
    }
    const what = `${pick.replica.shard.id} ${cc.type === ConfChangeType.AddVoter ? "promote" : "demote"} ${cc.replicaId}`;
    pick.host
      .changeMembership(pick.replica, cc, this.world.now + membershipDeadlineMs)
      .then((after) => {
        this.membershipApplied++;
        this.trace(
          `membership: ${what} applied: voters ${after.voters.join(",")} learners ${after.learners.join(",") || "none"}`,
        );
      })
      .catch((e: unknown) => this.trace(`membership: ${what} not done: ${(e as Error).message}`));
    this.trace(`membership: ${what} asked`);
  }

  private crash(id: NodeId, downMsMax?: number): void {
    const node = this.nodes.get(id)!;
    if (!node.up) return;
    node.crash();
    const delay =
      downMsMax === undefined
        ? 100 + this.world.random.intBelow(this.restartDelayMsMax)
        : 1 + this.world.random.intBelow(downMsMax);
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
