// The end of every run: heal the network, stop the faults, restart every crashed replica (now
// and then after a power cycle of the whole cluster). Then the liveness check: a leader must
// commit a fresh proposal (a marker) on every member within the bound of liveness-bound.ts, and
// the durability check: every acknowledged write is then on every member. Members are the
// voters and learners of the final membership; replicas removed along the way are not.

import { settleStepsBound } from "./liveness-bound.js";
import { calmWeather } from "./network.js";
import { raftTuning } from "./profile.js";
import type { SimReplica } from "./replica.js";
import type { Simulation } from "./simulation.js";
import { TraceKind } from "./trace.js";
import { SafetyViolation } from "./violation.js";

/** Chance that the heal is a power cycle of the whole cluster. */
const fullRestartAtHealChance = 0.25;

/**
 * Heal everything, restart every crashed replica, stop the faults; then a leader must commit a
 * fresh proposal (a marker) on every replica, and every acknowledged write must be everywhere.
 */
export function healAndSettle(sim: Simulation): void {
  sim.faultsOn = false;
  for (const r of sim.replicas) r.pausedUntil = 0;
  sim.network.heal();
  if (sim.brokenHeal) sim.network.partition(1 << 1);
  sim.network.weather = {
    ...calmWeather,
    duplication: sim.network.weather.duplication,
    delayMax: sim.network.weather.delayMax,
  };
  sim.trace.record(TraceKind.Heal);
  // Now and then the heal is a whole-cluster power cycle: every replica loses its page cache.
  if (sim.random.float() < fullRestartAtHealChance) for (const r of sim.replicas) if (r.up) sim.crashReplica(r);
  for (const r of sim.replicas) if (!r.up) sim.startReplica(r);
  const healedAt = sim.now;
  const lag =
    Math.max(...sim.replicas.map((r) => r.storage!.lastIndex())) - Math.min(...members(sim).map((r) => r.app.applied));
  const bound = settleStepsBound(lag, raftTuning, sim.network.weather.delayMax);
  sim.stats.settleBound = bound;
  let marker = 0;
  let markerLeader: SimReplica | undefined;
  let markerTerm = 0;
  while (sim.now - healedAt < bound) {
    const leader = sim.replicas.find((r) => r.role === "leader");
    // Re-propose if the marker's leader lost office before the marker was acknowledged.
    const markerLost =
      markerLeader !== undefined && (markerLeader.role !== "leader" || markerLeader.term !== markerTerm);
    if (leader !== undefined && (marker === 0 || (markerLost && sim.client.ackIndexOf(marker) === 0))) {
      const p = sim.client.propose(leader);
      if (p !== undefined) {
        marker = p;
        markerLeader = leader;
        markerTerm = leader.term;
        sim.client.watch(p);
      }
    }
    sim.step();
    if (marker !== 0 && settled(sim, marker)) {
      sim.stats.settleSteps = sim.now - healedAt;
      finish(sim);
      return;
    }
  }
  throw new SafetyViolation(
    "liveness",
    `no fresh proposal committed on every member within ${bound} steps of the heal (log lag ${lag}) (leader: ${sim.replicas.find((r) => r.role === "leader")?.id ?? "none"}, applied: ${sim.replicas.map((r) => `${r.id}:${r.app.applied}`).join(",")}, members: ${memberIds(sim).join(",")})`,
  );
}

function memberIds(sim: Simulation): number[] {
  const cs = sim.members();
  return [...cs.voters, ...cs.learners];
}

/** The replicas of the final membership (as the most advanced applied state knows it). */
function members(sim: Simulation): SimReplica[] {
  const ids = new Set(memberIds(sim));
  return sim.replicas.filter((r) => ids.has(r.id));
}

function settled(sim: Simulation, marker: number): boolean {
  const at = sim.client.ackIndexOf(marker);
  if (at === 0) return false;
  const need = Math.max(at, sim.client.highestAckedIndex);
  return members(sim).every((r) => r.app.applied >= need);
}

function finish(sim: Simulation): void {
  sim.stats.finalMembers = memberIds(sim).length;
  sim.checker.settled(members(sim).map((r) => ({ replica: r.id, applied: r.app.applied })));
  sim.trace.record(TraceKind.Settled, sim.checker.stateMachine.length, sim.checker.ackCount);
}
