// Seeded random runs of whole groups under message loss, reordering, duplication, partitions,
// crashes with restart from storage, and log compaction. After every step the cluster checks
// election safety, state machine safety and leader completeness; ReadIndex answers are checked
// against every commit that completed before the read was issued (linearizability); at the end
// the faults stop and the group must converge (liveness).

import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import type { Prng } from "../../src/base/prng.js";
import { RaftError } from "../../src/raft/types.js";
import type { Message } from "../../src/raft/types.js";
import { Cluster, bytes, text } from "./support/cluster.js";
import type { ClusterOptions } from "./support/cluster.js";

interface RunResult {
  leaders: number;
  reads: number;
  snapshots: number;
  /** Steps during which two replicas (of different terms) both believed they led. */
  staleLeaderSteps: number;
  committed: number;
}

export function run(seed: number, n: number, opts: ClusterOptions, steps: number): RunResult {
  const c = new Cluster(n, { ...opts, seed });
  const rng: Prng = seededPrng(seed * 31 + 7);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  let groups: Map<number, number> | undefined;
  const reachable = (m: Message) => groups === undefined || groups.get(m.from) === groups.get(m.to);
  let globalCommit = 0;
  const readIssuedAt = new Map<string, number>();
  const readSeen = new Set<string>();
  let reads = 0;
  let staleLeaderSteps = 0;

  const observe = () => {
    for (const id of ids) {
      const m = c.member(id);
      if (m.node !== undefined) globalCommit = Math.max(globalCommit, ...m.applied.slice(-1).map((e) => e.index));
      for (const rs of m.readStates.splice(0)) {
        // A duplicated message may answer a read twice; each answer must be a valid read point.
        const ctx = text(rs.context);
        readSeen.add(ctx);
        const issued = readIssuedAt.get(ctx);
        expect(issued, `unknown read ${ctx}`).toBeDefined();
        // Linearizable: the read point covers every commit applied anywhere before the request.
        expect(rs.index, `read ${ctx} (seed ${seed})`).toBeGreaterThanOrEqual(issued ?? 0);
        reads++;
      }
    }
  };

  for (let step = 0; step < steps; step++) {
    const id = 1 + rng.intBelow(n);
    const up = c.member(id).node !== undefined;
    const roll = rng.intBelow(1000);
    if (roll < 300) {
      if (up) c.tick(id);
    } else if (roll < 650) {
      // A burst of deliveries in random order (the queue must not outgrow delivery).
      c.deliverRandom(rng, 8, reachable);
    } else if (roll < 800) {
      // Readies pile up between turns, so crashes can land between ready() and persistence.
      c.processReady(id);
    } else if (roll < 860) {
      const lead = c.leader();
      if (lead !== 0) {
        try {
          c.node(lead).propose(bytes(`p${seed}.${step}`));
        } catch (e) {
          if (!(e instanceof RaftError)) throw e;
        }
      }
    } else if (roll < 900) {
      // Half the reads go to a replica that believes it leads (there may be a stale one), half
      // to a random replica.
      const leaders = ids.filter((x) => c.member(x).node?.status().softState.role === "leader");
      const at = rng.intBelow(2) === 0 && leaders.length > 0 ? (leaders[rng.intBelow(leaders.length)] as number) : id;
      if (c.member(at).node !== undefined) {
        const ctx = `r${seed}.${step}`;
        readIssuedAt.set(ctx, globalCommit);
        c.node(at).readIndex(bytes(ctx));
      }
    } else if (roll < 915) {
      c.compact(id);
    } else if (roll < 918) {
      if (up) c.crash(id);
    } else if (roll < 921) {
      // Die in the middle of a turn: a vote or an append acknowledgement was about to go out.
      if (up) c.crashMidReady(id);
    } else if (roll < 951) {
      if (!up) c.restart(id);
    } else if (roll < 956) {
      // Half the partitions cut the leader off alone: a deposed leader that does not know it yet
      // is where stale reads and lost writes would come from.
      const lead = c.leader();
      const isolateLeader = lead !== 0 && rng.intBelow(2) === 0;
      groups = new Map(ids.map((x) => [x, isolateLeader ? (x === lead ? 1 : 0) : rng.intBelow(2)]));
    } else if (roll < 961) {
      groups = undefined;
    } else {
      c.processAll();
    }
    observe();
    if (ids.filter((x) => c.member(x).node?.status().softState.role === "leader").length > 1) staleLeaderSteps++;
  }

  // Faults stop: everyone up, network healed. The group must elect a leader and converge.
  groups = undefined;
  for (const id of ids) if (c.member(id).node === undefined) c.restart(id);
  // Without PreVote a replica that inflated its term while cut off may still depose the leader
  // once; the group must settle anyway: a leader commits "final" on every replica.
  const converged = (): boolean => {
    const lead = c.leader();
    if (lead === 0) return false;
    const last = c.status(lead).lastIndex;
    return ids.every((id) => {
      const st = c.status(id);
      return (
        st.lastIndex === last &&
        st.hardState.commit === last &&
        c.member(id).applied.some((e) => text(e.data) === "final")
      );
    });
  };
  let proposedFinal = false;
  for (let round = 0; round < 600 && !converged(); round++) {
    for (const id of ids) c.tick(id);
    c.stabilize();
    const lead = c.leader();
    if (lead !== 0 && !proposedFinal) {
      c.node(lead).propose(bytes("final"));
      proposedFinal = true;
    }
    // A "final" lost with a deposed leader's uncommitted tail is proposed again.
    if (lead !== 0 && round % 100 === 99 && !converged()) proposedFinal = false;
  }
  observe();
  const leader = c.leader();
  if (process.env.RAFT_DEBUG === "1" && !converged()) {
    for (const id of ids) console.log(id, c.status(id), c.member(id).logs.slice(-8));
  }
  expect(converged(), `seed ${seed}: the group did not converge after the faults stopped`).toBe(true);
  const finalIndex = c.status(leader).lastIndex;
  c.checkLogMatching();
  let snapshots = 0;
  for (const id of ids) snapshots += c.member(id).logs.filter((l) => l.includes("restored snapshot")).length;
  return { leaders: c.leaders.size, reads, snapshots, staleLeaderSteps, committed: finalIndex };
}

/** Seeds per variant; RAFT_FAULT_SEEDS raises it for a longer soak. */
const seeds = Number(process.env.RAFT_FAULT_SEEDS ?? "30");

describe("random faults", () => {
  const variants: Array<[string, ClusterOptions]> = [
    ["plain", {}],
    ["pre-vote", { preVote: true }],
    ["check-quorum", { checkQuorum: true }],
    [
      "pre-vote + check-quorum, small windows",
      { preVote: true, checkQuorum: true, maxInflightAppends: 2, maxAppendBytes: 16 },
    ],
  ];
  for (const [name, opts] of variants) {
    it(`${name}: safety holds and the group converges once faults stop (3 and 5 replicas, ${seeds} seeds)`, () => {
      let leaders = 0;
      let reads = 0;
      let snapshots = 0;
      let stale = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const r = run(seed, seed % 2 === 0 ? 5 : 3, opts, 3000);
        leaders += r.leaders;
        reads += r.reads;
        snapshots += r.snapshots;
        stale += r.staleLeaderSteps;
      }
      if (process.env.RAFT_DEBUG === "1") console.log(name, { leaders, reads, snapshots, stale });
      // The faults really did force elections, reads were answered and checked, and followers
      // that fell behind compaction were caught up by snapshots.
      expect(leaders).toBeGreaterThan(seeds);
      expect(reads).toBeGreaterThan(seeds / 4);
      expect(snapshots).toBeGreaterThan(0);
    });
  }
});
