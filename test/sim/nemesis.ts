// The chaos phase's source of trouble, one roll per kind of event per step: crashes that lose
// unsynced writes, restarts, process pauses, symmetric and one-way partitions (some aimed at the
// leader, some right after it commits), changes of loss/duplication/delay, background
// write-back, client proposals and reads, snapshots with compaction, leadership transfers and
// forced campaigns. (Skipped ticks are drawn in Simulation.step.)

import { type ConfChange, ConfChangeType } from "../../src/raft/conf-change.js";
import { RaftError } from "../../src/raft/types.js";
import type { Weather } from "./network.js";
import type { SimReplica } from "./replica.js";
import type { Simulation } from "./simulation.js";
import { TraceKind } from "./trace.js";

/** Unsynced writes the OS flushes in one background write-back, at most. */
const writeBackOpsMax = 8;
/** Longest process pause, in steps: long enough for the others to elect and commit meanwhile. */
const pauseStepsMax = 60;
/** A snapshot keeps up to this many entries behind it, for slow followers. */
const compactBehindEntriesMax = 8;
/** Membership changes keep at least this many voters (the fault tolerance the faults assume). */
const votersMin = 3;

export class Nemesis {
  constructor(private readonly sim: Simulation) {}

  strike(): void {
    const { random, profile: p } = this.sim;
    if (random.float() < p.crash) this.crash();
    for (const r of this.sim.replicas) if (!r.up && random.float() < p.restart) this.sim.startReplica(r);
    if (random.float() < p.pause) this.pause();
    if (random.float() < p.partition) this.partition();
    if (random.float() < p.oneWay) this.oneWay();
    if (random.float() < p.heal && this.sim.network.anyCut) {
      this.sim.network.heal();
      this.sim.trace.record(TraceKind.Heal);
    }
    if (random.float() < p.weatherChange) this.changeWeather();
    for (const r of this.sim.replicas) {
      if (r.up && r.disk.unsyncedCount > 0 && random.float() < p.writeBack)
        r.disk.writeBack(1 + random.intBelow(writeBackOpsMax));
      if (this.live(r) !== undefined && random.float() < p.snapshot) this.snapshot(r);
    }
    if (random.float() < p.propose) this.propose();
    if (random.float() < p.read) this.read();
    if (random.float() < p.transfer) this.transfer();
    if (random.float() < p.campaign) this.campaign();
    if (random.float() < p.confChange) this.confChange();
  }

  private randomUp(): SimReplica | undefined {
    const up = this.sim.replicas.filter((r) => r.up);
    return up.length === 0 ? undefined : up[this.sim.random.intBelow(up.length)];
  }

  /** Up and not paused: a process that can take a request right now. */
  private live(r: SimReplica | undefined): SimReplica | undefined {
    return r?.up && !r.paused(this.sim.now) ? r : undefined;
  }

  /** The replica the client would address: the known leader, or now and then any replica. */
  private target(): SimReplica | undefined {
    const known = this.sim.replica(this.sim.client.target());
    if (known !== undefined && this.sim.random.float() >= this.sim.profile.misdirect) return this.live(known);
    return this.live(this.randomUp());
  }

  /**
   * Right after a leader commits, cut it off now and then: its next appends (a new leader's
   * empty entry, the rest of a catch-up) are lost, leaving a quorum with a half-replicated log.
   * That is the Figure 8 situation where committing entries of old terms by counting would bite.
   */
  leaderCommitted(r: SimReplica): void {
    if (this.sim.random.float() >= this.sim.profile.isolateOnCommit) return;
    this.sim.network.partition(1 << r.id);
    this.sim.trace.record(TraceKind.Partition, 1 << r.id);
  }

  /** Half the pauses freeze the leader: it wakes up deposed but still believing it leads. */
  private pause(): void {
    const r = (this.sim.random.intBelow(2) === 0 ? this.leader() : undefined) ?? this.randomUp();
    if (r === undefined || r.paused(this.sim.now)) return;
    const steps = 1 + this.sim.random.intBelow(pauseStepsMax);
    r.pausedUntil = this.sim.now + steps;
    this.sim.trace.record(TraceKind.Pause, r.id, steps);
  }

  private leader(): SimReplica | undefined {
    return this.sim.replicas.find((r) => r.up && r.role === "leader");
  }

  /** Half the crashes hit the leader: new leaders with half-replicated logs are where Raft is subtle. */
  private crash(): void {
    const r = (this.sim.random.intBelow(2) === 0 ? this.leader() : undefined) ?? this.randomUp();
    if (r !== undefined) this.sim.crashReplica(r);
  }

  /** Half the partitions put the leader in a minority: a deposed leader that still believes is the stale-read case. */
  private partition(): void {
    const random = this.sim.random;
    const n = this.sim.replicas.length;
    const leader = random.intBelow(2) === 0 ? this.leader() : undefined;
    let mask: number;
    if (leader !== undefined) {
      mask = 1 << leader.id;
      if (n === 5 && random.intBelow(2) === 0) mask |= 1 << (1 + ((leader.id + random.intBelow(n - 1)) % n));
    } else {
      mask = (1 + random.intBelow(2 ** n - 2)) << 1; // a non-empty proper subset of 1..n
    }
    this.sim.network.partition(mask);
    this.sim.trace.record(TraceKind.Partition, mask);
  }

  private oneWay(): void {
    const n = this.sim.replicas.length;
    const from = 1 + this.sim.random.intBelow(n);
    const to = 1 + ((from + this.sim.random.intBelow(n - 1)) % n);
    this.sim.network.setCut(from, to, true);
    this.sim.trace.record(TraceKind.OneWay, from, to);
  }

  private changeWeather(): void {
    const random = this.sim.random;
    const w: Weather = {
      loss: [0, 0, 0.01, 0.05, 0.2, 0.5][random.intBelow(6)]!,
      duplication: [0, 0.02, 0.1][random.intBelow(3)]!,
      delayMax: 1 + random.intBelow(4),
      slow: [0, 0, 0.01, 0.05][random.intBelow(4)]!,
    };
    this.sim.network.weather = w;
    this.sim.trace.record(TraceKind.Weather, Math.round(w.loss * 100), Math.round(w.duplication * 100), w.delayMax);
  }

  private snapshot(r: SimReplica): void {
    const s = r.snapshot(this.sim.random.intBelow(compactBehindEntriesMax + 1));
    if (s !== undefined) this.sim.trace.record(TraceKind.Snapshot, r.id, s.at, s.compactedTo);
  }

  private propose(): void {
    const r = this.target();
    if (r !== undefined) this.sim.client.propose(r);
  }

  private read(): void {
    const r = this.target();
    if (r !== undefined) this.sim.client.read(r);
  }

  /** Asks the leader (now and then a follower, which forwards it) to hand leadership to another replica. */
  private transfer(): void {
    const leader = this.live(this.leader());
    if (leader === undefined) return;
    const n = this.sim.replicas.length;
    const to = 1 + ((leader.id + this.sim.random.intBelow(n - 1)) % n);
    const asked = (this.sim.random.intBelow(5) === 0 ? this.live(this.randomUp()) : undefined) ?? leader;
    this.sim.trace.record(TraceKind.Transfer, asked.id, to);
    try {
      asked.node!.transferLeadership(to);
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
    }
  }

  /**
   * Asks the leader for one membership change, as an operator moving replicas would: add a new
   * replica as a learner (a fresh id: a removed replica never comes back with its old state),
   * promote a learner, or remove a voter (the leader too) or a learner, keeping votersMin
   * voters. Refusals (a change still pending, no commit yet in the leader's term) are expected.
   */
  private confChange(): void {
    const leader = this.live(this.leader());
    if (leader === undefined) return;
    const random = this.sim.random;
    const cs = leader.node!.confState();
    const canAdd = this.sim.replicas.length < this.sim.replicaLimit;
    let cc: ConfChange | undefined;
    const roll = random.intBelow(3);
    if (roll === 0 && cs.learners.length > 0) {
      cc = { type: ConfChangeType.AddVoter, replicaId: cs.learners[random.intBelow(cs.learners.length)]! };
    } else if (roll === 1 && canAdd) {
      cc = { type: ConfChangeType.AddLearner, replicaId: this.sim.replicas.length + 1 };
    } else if (cs.voters.length > votersMin) {
      cc = { type: ConfChangeType.Remove, replicaId: cs.voters[random.intBelow(cs.voters.length)]! };
    } else if (cs.learners.length > 0) {
      cc = { type: ConfChangeType.Remove, replicaId: cs.learners[random.intBelow(cs.learners.length)]! };
    }
    if (cc === undefined) return;
    let refused = 0;
    try {
      leader.node!.proposeConfChange(cc);
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
      refused = 1;
    }
    this.sim.trace.record(TraceKind.ConfChange, leader.id, cc.type, cc.replicaId, refused);
    // The new replica's process starts now, knowing the voters as the group (not itself).
    if (refused === 0 && cc.type === ConfChangeType.AddLearner) this.sim.addReplica(cs.voters);
  }

  private campaign(): void {
    const r = this.live(this.randomUp());
    if (r === undefined) return;
    this.sim.trace.record(TraceKind.Campaign, r.id);
    r.node!.campaign();
  }
}
