// One seeded run: a Raft group of 3 or 5 replicas over the simulated network. A chaos phase
// (nemesis.ts) injects crashes, pauses, partitions, loss, duplication, delays, snapshots,
// transfers and client load; then everything heals and the group must settle within the
// liveness bound (settle.ts). Safety is checked on every event as it happens.

import { type Prng, seededPrng } from "../../src/base/prng.js";
import {
  describeEntries,
  describeHardState,
  describeMessage,
  describeSnapshot,
  describeSoftState,
} from "../../src/raft/describe.js";
import { type ConfState, type Message, MessageType, type Ready, type ReplicaId } from "../../src/raft/types.js";
import { ConfChangeType } from "../../src/raft/conf-change.js";
import { SafetyChecker } from "./checkers/safety-checker.js";
import { confChangeOfPayload } from "./payload.js";
import { SimClient } from "./client.js";
import { Forger } from "./forger.js";
import { Nemesis } from "./nemesis.js";
import { type InFlight, SimNetwork } from "./network.js";
import { drawProfile, type Profile, raftTuning } from "./profile.js";
import { type ReplicaHost, SimReplica } from "./replica.js";
import { healAndSettle } from "./settle.js";
import { Trace, TraceKind } from "./trace.js";

const traceCapacity = 256;
/** Replicas a run may add beyond its first ones (each new member gets a fresh id). */
export const spareReplicasMax = 3;

/** Message types only a leader sends (indexed by MessageType). */
const leaderOnly: boolean[] = [];
for (const t of [MessageType.Append, MessageType.Heartbeat, MessageType.Snapshot, MessageType.TimeoutNow])
  leaderOnly[t] = true;

export interface SimOptions {
  seed: number;
  /** Default: drawn from the seed (half the seeds each). */
  replicas?: 3 | 5;
  /** Steps of the chaos phase. */
  chaosSteps: number;
  /** Called with every trace line as it happens (--verbose). */
  onTrace?: (line: string) => void;
  /**
   * Test-only sabotage: the driver never syncs Raft writes, breaking the persistence contract,
   * so that a test can prove the checks catch what such a driver does to a cluster.
   */
  brokenDurability?: boolean;
  /** Test-only sabotage: the heal leaves replica 1 cut off, so the liveness check must fire. */
  brokenHeal?: boolean;
}

export interface SimStats {
  steps: number;
  settleSteps: number;
  /** The liveness bound this run had to meet (see liveness-bound.ts). */
  settleBound: number;
  leaders: number;
  proposals: number;
  refusals: number;
  acks: number;
  reads: number;
  readAnswers: number;
  crashes: number;
  snapshotsDelivered: number;
  snapshotsInstalled: number;
  truncations: number;
  delivered: number;
  dropped: number;
  /** Forged messages stepped into replicas (each refused, or the run fails). */
  forged: number;
  /** Membership changes committed and applied, by kind; removals of a replica that led then. */
  confChanges: { addLearner: number; promote: number; remove: number; removeLeader: number };
  /** Replicas of the final membership (voters and learners). */
  finalMembers: number;
}

export interface SimResult {
  seed: number;
  replicas: number;
  traceHash: number;
  stats: SimStats;
  /** A safety/liveness violation or an exception thrown by the core. */
  failure?: Error;
  traceTail: string[];
}

export function runSimulation(options: SimOptions): SimResult {
  const sim = new Simulation(options);
  let failure: Error | undefined;
  try {
    sim.run(options.chaosSteps);
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
  }
  const c = sim.client;
  for (const r of sim.replicas) {
    sim.stats.snapshotsInstalled += r.installs;
    sim.stats.truncations += r.truncations;
  }
  sim.stats.forged = sim.forger.forged;
  Object.assign(sim.stats, {
    proposals: c.proposals,
    refusals: c.refusals,
    acks: sim.checker.ackCount,
    reads: c.reads,
    readAnswers: c.readAnswers,
  });
  const result: SimResult = {
    seed: options.seed,
    replicas: sim.replicas.length,
    traceHash: sim.trace.hash,
    stats: sim.stats,
    traceTail: [],
  };
  if (failure !== undefined) {
    result.failure = failure;
    result.traceTail = sim.trace.tail(traceCapacity);
  }
  return result;
}

export class Simulation implements ReplicaHost {
  readonly random: Prng;
  readonly trace: Trace;
  readonly checker = new SafetyChecker();
  readonly network: SimNetwork;
  readonly client: SimClient;
  readonly replicas: SimReplica[] = [];
  readonly profile: Profile;
  readonly brokenHeal: boolean;
  private readonly brokenDurability: boolean;
  private readonly firstReplicas: number;
  private readonly nemesis: Nemesis;
  readonly forger: Forger;
  now = 0;
  /** Faults are on (chaos phase); after the heal every replica ticks every step. */
  faultsOn = true;
  readonly stats: SimStats = {
    steps: 0,
    settleSteps: 0,
    settleBound: 0,
    leaders: 0,
    proposals: 0,
    refusals: 0,
    acks: 0,
    reads: 0,
    readAnswers: 0,
    crashes: 0,
    snapshotsDelivered: 0,
    snapshotsInstalled: 0,
    truncations: 0,
    delivered: 0,
    dropped: 0,
    forged: 0,
    confChanges: { addLearner: 0, promote: 0, remove: 0, removeLeader: 0 },
    finalMembers: 0,
  };
  /** Highest log index of a conf change counted in stats.confChanges (each counted once). */
  private confChangesCountedTo = 0;

  constructor(options: SimOptions) {
    this.random = seededPrng(options.seed);
    this.trace = new Trace(traceCapacity, options.onTrace);
    const n = options.replicas ?? (this.random.intBelow(2) === 0 ? 3 : 5);
    this.profile = drawProfile(this.random);
    this.network = new SimNetwork(n + spareReplicasMax, this.random);
    this.firstReplicas = n;
    this.client = new SimClient(this.checker, this.trace);
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    for (const id of ids) this.replicas.push(new SimReplica(id, ids, this, options.brokenDurability === true));
    this.nemesis = new Nemesis(this);
    this.forger = new Forger(options.seed);
    this.brokenHeal = options.brokenHeal === true;
    this.brokenDurability = options.brokenDurability === true;
  }

  replica(id: ReplicaId): SimReplica | undefined {
    return this.replicas[id - 1];
  }

  /** Replicas a run may hold in all: its first ones plus spareReplicasMax. */
  get replicaLimit(): number {
    return this.firstReplicas + spareReplicasMax;
  }

  /** A new, empty replica that knows `voters` as the group and waits to be added (as a learner). */
  addReplica(voters: readonly ReplicaId[]): SimReplica {
    const r = new SimReplica(this.replicas.length + 1, voters.slice(), this, this.brokenDurability);
    this.replicas.push(r);
    this.startReplica(r);
    return r;
  }

  /** The group's membership as the most advanced applied state knows it. */
  members(): ConfState {
    let best = this.replicas[0]!;
    for (const r of this.replicas) if (r.app.applied > best.app.applied) best = r;
    return best.confState();
  }

  startReplica(r: SimReplica): void {
    r.start(raftTuning, seededPrng(this.random.nextU32()));
    const img = r.disk.image;
    this.trace.record(TraceKind.Restart, r.id, img.app.applied, img.hardState.term, r.storage!.lastIndex());
  }

  /** Power loss at `r`: a random prefix of its unsynced writes survives. */
  crashReplica(r: SimReplica): void {
    const unsynced = r.disk.unsyncedCount;
    const kept = this.random.intBelow(unsynced + 1);
    this.trace.record(TraceKind.Crash, r.id, kept, unsynced);
    this.stats.crashes++;
    r.crash(kept);
  }

  run(chaosSteps: number): void {
    for (const r of this.replicas) this.startReplica(r);
    for (let i = 0; i < chaosSteps; i++) {
      this.nemesis.strike();
      this.forge();
      this.step();
    }
    healAndSettle(this);
  }

  /** Now and then a forged message into a live replica, which must refuse it (forger.ts). */
  private forge(): void {
    const live = this.replicas.filter((r) => r.up && !r.paused(this.now));
    const r = live[this.forger.pick(live.length)];
    if (r === undefined) return;
    const kind = this.forger.maybeForge(r, this.replicas.length);
    if (kind >= 0) this.trace.record(TraceKind.Forge, r.id, kind);
  }

  /** One unit of time: deliver what is due, tick everyone, then drive every Ready. */
  step(): void {
    this.now++;
    this.trace.step = this.now;
    this.stats.steps++;
    for (const r of this.replicas) if (r.inbox.length > 0 && !r.paused(this.now)) this.deliverInbox(r);
    for (const f of this.network.takeDue(this.now)) this.deliver(f);
    const skip = this.faultsOn ? this.profile.tickSkip : 0;
    for (const r of this.replicas) {
      if (r.node !== undefined && !r.paused(this.now) && (skip === 0 || this.random.float() >= skip)) r.node.tick();
    }
    for (const r of this.replicas) if (!r.paused(this.now)) r.handleReadys();
  }

  /** A paused replica resumes: what queued up in its socket buffers arrives, in order. */
  private deliverInbox(r: SimReplica): void {
    const queued = r.inbox.splice(0);
    for (const f of queued) this.deliver(f);
  }

  private deliver(f: InFlight): void {
    const m = f.m;
    const to = this.replica(m.to);
    let dropReason = 0;
    if (to === undefined || !to.up) dropReason = 3;
    else if (this.network.isCut(m.from, m.to)) dropReason = 2;
    else if (to.paused(this.now)) {
      to.inbox.push(f);
      return;
    }
    if (dropReason !== 0) {
      this.stats.dropped++;
      this.trace.record(TraceKind.Drop, m.type, m.from, m.to, dropReason);
      this.tellSender(f, false);
      return;
    }
    this.stats.delivered++;
    this.trace.record(TraceKind.Deliver, m.type, m.from, m.to, m.term);
    if (this.trace.verbose) this.trace.print(describeMessage(m));
    if (m.type === MessageType.VoteResponse && !m.reject) to!.voteGranted(m.term, m.from);
    to!.node!.step(m);
    if (m.type === MessageType.Snapshot) {
      this.stats.snapshotsDelivered++;
      this.tellSender(f, true);
    }
  }

  /** What a real transport learns about a send: a snapshot's outcome, an unreachable peer. */
  private tellSender(f: InFlight, delivered: boolean): void {
    const from = this.replica(f.m.from);
    if (from === undefined || from.node === undefined || from.incarnation !== f.senderIncarnation) return;
    if (f.m.type === MessageType.Snapshot) from.node.reportSnapshot(f.m.to, delivered);
    if (!delivered) from.node.reportUnreachable(f.m.to);
  }

  // ReplicaHost

  send(m: Message, senderIncarnation: number): void {
    if (leaderOnly[m.type]) this.checker.leaderMessage(m.from, m.term);
    if (!this.network.send(m, senderIncarnation, this.now)) {
      this.stats.dropped++;
      this.trace.record(TraceKind.Drop, m.type, m.from, m.to, 1);
      if (m.type === MessageType.Snapshot) this.replica(m.from)?.node?.reportSnapshot(m.to, false);
    }
  }

  readyDetail(r: SimReplica, rd: Ready): void {
    if (!this.trace.verbose) return;
    const parts = [`replica ${r.id} ready:`];
    if (rd.softState !== undefined) parts.push(describeSoftState(rd.softState));
    if (rd.hardState !== undefined) parts.push(describeHardState(rd.hardState) + (rd.mustSync ? " (sync)" : ""));
    if (rd.snapshot !== undefined) parts.push(`snapshot ${describeSnapshot(rd.snapshot)}`);
    if (rd.entries.length > 0) parts.push(`entries ${describeEntries(rd.entries)}`);
    if (rd.committedEntries.length > 0)
      parts.push(`commit ${rd.committedEntries[0]!.index}..${rd.committedEntries.at(-1)!.index}`);
    if (rd.messages.length > 0) parts.push(`${rd.messages.length} messages`);
    this.trace.print(parts.join(" "));
  }

  leaderCommitted(r: SimReplica): void {
    if (this.faultsOn) this.nemesis.leaderCommitted(r);
  }

  applied(r: SimReplica, index: number, payload: number): void {
    this.trace.record(TraceKind.Apply, r.id, index, payload);
    const cc = confChangeOfPayload(payload);
    if (cc !== undefined && index > this.confChangesCountedTo) {
      this.confChangesCountedTo = index;
      const c = this.stats.confChanges;
      if (cc.type === ConfChangeType.AddLearner) c.addLearner++;
      else if (cc.type === ConfChangeType.AddVoter) c.promote++;
      else {
        c.remove++;
        if (r.id === cc.replicaId && r.role === "leader") c.removeLeader++;
      }
    }
    this.client.applied(payload, index);
  }

  readAnswered(r: SimReplica, context: number, index: number): void {
    this.trace.record(TraceKind.ReadAnswer, r.id, context, index);
    this.client.answered(context, index);
  }

  leads(r: SimReplica, term: number): void {
    this.stats.leaders++;
    this.trace.record(TraceKind.Leader, r.id, term);
  }
}
