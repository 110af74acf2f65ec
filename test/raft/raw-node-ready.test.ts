// The Ready contract of RawNode (src/raft/types.ts) as seen from outside, under seeded random
// faults: loss, reordering, duplication, partitions, crashes with and without a half-handled
// Ready, compaction, leadership transfers, reportUnreachable and uncommitted-bytes backpressure.
// Once a Ready is persisted, every append acknowledgement of the current term covers only
// persisted entries, every granted vote is the persisted vote, every committed entry handed to
// the application is persisted, and the persisted commit never passes the persisted log. Reads
// are linearizable, and once the faults stop the group converges and takes proposals again (the
// uncommitted-bytes budget did not leak). Unit cases of the contract: raw-node.test.ts.

import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import { describeMessage } from "../../src/raft/describe.js";
import type { MemoryStorage } from "../../src/raft/memory-storage.js";
import { MessageType } from "../../src/raft/types.js";
import type { Entry, Message, Ready, ReplicaId } from "../../src/raft/types.js";
import { Cluster, bytes, checkReadStates, sameBytes, text, tolerateRefusals } from "./support/cluster.js";
import type { ClusterOptions } from "./support/cluster.js";
import { persistReady } from "./support/ready-driver.js";

/**
 * The contract, checked on replica `id` once `rd` is persisted in `s` and before its messages
 * go out.
 */
function expectPersistedFirst(id: ReplicaId, s: MemoryStorage, rd: Ready, seed: number): void {
  const hs = s.hardStateCopy();
  const last = s.lastIndex();
  expect(hs.commit, `${id}: persisted commit past the persisted log (seed ${seed})`).toBeLessThanOrEqual(last);
  for (const e of rd.committedEntries) {
    // An entry compacted since is covered by the snapshot.
    const persisted = e.index < s.firstIndex() || (e.index <= last && s.term(e.index) === e.term);
    expect(persisted, `${id} applies unpersisted ${e.term}/${e.index} (seed ${seed})`).toBe(true);
  }
  for (const msg of rd.messages) {
    // A message built in an earlier term of this Ready window speaks for a state the replica
    // has since legitimately left (a newer leader truncated it): only current-term ones here.
    if (msg.term !== hs.term) continue;
    const what = `${id}: ${describeMessage(msg)}, persisted log ${last}, vote ${hs.vote} (seed ${seed})`;
    if (msg.type === MessageType.AppendResponse && !msg.reject) expect(msg.index, what).toBeLessThanOrEqual(last);
    if (msg.type === MessageType.VoteResponse && !msg.reject) expect(hs.vote, what).toBe(msg.to);
  }
}

/** One leader, followed by everyone in its term (not a stale leader of an older one), with equal committed logs. */
function converged(c: Cluster, ids: readonly ReplicaId[]): boolean {
  const lead = c.leader();
  if (lead === 0) return false;
  const { lastIndex, hardState, leadTransferee } = c.status(lead);
  // A transfer still under way refuses proposals until it completes or times out.
  if (leadTransferee !== 0) return false;
  return ids.every((id) => {
    const st = c.status(id);
    return (
      st.softState.leader === lead &&
      st.hardState.term === hardState.term &&
      st.lastIndex === lastIndex &&
      st.hardState.commit === lastIndex
    );
  });
}

/** A Cluster whose driver checks each Ready right after persisting it, before its messages go out. */
class ContractCheckingCluster extends Cluster {
  readies = 0;
  private readonly seed: number;

  constructor(n: number, opts: ClusterOptions & { seed: number }) {
    super(n, opts);
    this.seed = opts.seed;
  }

  override processReady(id: ReplicaId): boolean {
    const m = this.member(id);
    const node = m.node;
    if (node === undefined || !node.hasReady()) return false;
    let rd: Ready | undefined;
    const ready = node.ready.bind(node);
    node.ready = () => {
      rd = ready();
      return rd;
    };
    try {
      super.processReady(id);
    } finally {
      node.ready = ready;
    }
    if (rd !== undefined) {
      this.readies++;
      expectPersistedFirst(id, m.storage, rd, this.seed);
    }
    return true;
  }
}

/** Faults, transfers and backpressure with the Cluster's own Ready driver; returns the Readies checked. */
function runWithFaults(seed: number, n: number, opts: ClusterOptions, steps: number): number {
  const c = new ContractCheckingCluster(n, { ...opts, seed });
  const rng = seededPrng(seed * 131 + 17);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  let groups: Map<number, number> | undefined;
  const reachable = (m: Message) => groups === undefined || groups.get(m.from) === groups.get(m.to);
  let appliedAnywhere = 0;
  const readIssuedAt = new Map<string, number>();
  const observe = () => {
    for (const id of ids) {
      const m = c.member(id);
      const lastApplied = m.applied[m.applied.length - 1];
      if (lastApplied !== undefined) appliedAnywhere = Math.max(appliedAnywhere, lastApplied.index);
    }
    checkReadStates(c, ids, readIssuedAt, seed);
  };
  for (let step = 0; step < steps; step++) {
    const id = 1 + rng.intBelow(n);
    const up = c.member(id).node !== undefined;
    const roll = rng.intBelow(1000);
    const lead = c.leader();
    if (roll < 300) {
      if (up) c.tick(id);
    } else if (roll < 650) {
      c.deliverRandom(rng, 8, reachable);
    } else if (roll < 800) {
      c.processReady(id);
    } else if (roll < 860) {
      if (lead !== 0)
        tolerateRefusals(() => c.node(lead).propose(bytes(`p${seed}.${step}${"x".repeat(rng.intBelow(24))}`)));
    } else if (roll < 885) {
      if (up) {
        const ctx = `r${seed}.${step}`;
        readIssuedAt.set(ctx, appliedAnywhere);
        c.node(id).readIndex(bytes(ctx));
      }
    } else if (roll < 897) {
      if (up) c.node(id).transferLeadership(1 + rng.intBelow(n));
    } else if (roll < 903) {
      if (lead !== 0) c.node(lead).reportUnreachable(1 + rng.intBelow(n));
    } else if (roll < 913) {
      c.compact(id);
    } else if (roll < 916) {
      if (up) c.crash(id);
    } else if (roll < 920) {
      if (up) c.crashMidReady(id);
    } else if (roll < 950) {
      if (!up) c.restart(id);
    } else if (roll < 955) {
      const isolateLeader = lead !== 0 && rng.intBelow(2) === 0;
      groups = new Map(ids.map((x) => [x, isolateLeader ? (x === lead ? 1 : 0) : rng.intBelow(2)]));
    } else if (roll < 960) {
      groups = undefined;
    } else {
      c.processAll();
    }
    observe();
  }

  // Faults stop. The group must converge on one log, then keep accepting proposals.
  groups = undefined;
  for (const id of ids) if (c.member(id).node === undefined) c.restart(id);
  for (let round = 0; round < 600 && !converged(c, ids); round++) {
    for (const id of ids) c.tick(id);
    c.stabilize();
  }
  expect(converged(c, ids), `seed ${seed}: no convergence after the faults stopped`).toBe(true);
  const lead = c.leader();
  for (let i = 0; i < 4; i++) {
    c.node(lead).propose(bytes(`after${i}${"y".repeat(30)}`));
    c.stabilize();
  }
  observe();
  expect(c.member(lead).applied.filter((e) => text(e.data).startsWith("after")).length, `seed ${seed}`).toBe(4);
  c.checkLogMatching();
  return c.readies;
}

interface WindowStats {
  stepsWithReadyOutstanding: number;
  appliedIndexes: number;
}

/**
 * The real driver awaits an fsync between ready() and advance(), and messages, ticks, proposals
 * and reads keep arriving meanwhile. This driver takes a Ready, lets random events hit the
 * replica while it is outstanding, and only later persists, sends, applies and advances it (or
 * crashes, losing it). Applied entries must also be identical everywhere (state machine safety).
 */
function runWithReadyOutstanding(seed: number, n: number, opts: ClusterOptions, steps: number): WindowStats {
  const c = new Cluster(n, { ...opts, seed });
  const rng = seededPrng(seed * 977 + 3);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const outstanding = new Map<ReplicaId, Ready>();
  const appliedAt = new Map<number, Entry>();
  const readIssuedAt = new Map<string, number>();
  let appliedAnywhere = 0;
  let stepsWithReadyOutstanding = 0;
  let groups: Map<number, number> | undefined;
  const reachable = (m: Message) => groups === undefined || groups.get(m.from) === groups.get(m.to);

  const take = (id: ReplicaId) => {
    const node = c.member(id).node;
    if (node?.hasReady()) outstanding.set(id, node.ready());
  };
  const complete = (id: ReplicaId) => {
    const m = c.member(id);
    const rd = outstanding.get(id);
    if (rd === undefined || m.node === undefined) return;
    outstanding.delete(id);
    const s = m.storage;
    // 1. persist
    persistReady(s, rd);
    if (rd.mustSync) m.syncedHardState = s.hardStateCopy();
    expectPersistedFirst(id, s, rd, seed);
    // 2. send
    for (const msg of rd.messages) c.pending.push(msg);
    // 3. apply
    if (rd.snapshot !== undefined) {
      const at = rd.snapshot.metadata.index;
      m.applied = m.applied.filter((e) => e.index <= at);
    }
    for (const e of rd.committedEntries) {
      const seen = appliedAt.get(e.index);
      if (seen === undefined) appliedAt.set(e.index, e);
      else
        expect(
          seen.term === e.term && sameBytes(seen.data, e.data),
          `state machine safety at ${e.index} (seed ${seed})`,
        ).toBe(true);
      m.applied.push(e);
      appliedAnywhere = Math.max(appliedAnywhere, e.index);
    }
    for (const rs of rd.readStates) m.readStates.push(rs);
    // 4. advance
    m.node.advance(rd);
    c.observeLeaders();
  };
  const observeReads = () => checkReadStates(c, ids, readIssuedAt, seed);

  for (let step = 0; step < steps; step++) {
    const id = 1 + rng.intBelow(n);
    const up = c.member(id).node !== undefined;
    const roll = rng.intBelow(1000);
    const lead = c.leader();
    if (outstanding.size > 0) stepsWithReadyOutstanding++;
    if (roll < 280) {
      if (up) c.tick(id);
    } else if (roll < 620) {
      c.deliverRandom(rng, 6, reachable);
    } else if (roll < 720) {
      take(id);
    } else if (roll < 820) {
      complete(id);
    } else if (roll < 870) {
      if (lead !== 0) tolerateRefusals(() => c.node(lead).propose(bytes(`p${seed}.${step}`)));
    } else if (roll < 895) {
      if (up) {
        const ctx = `r${seed}.${step}`;
        readIssuedAt.set(ctx, appliedAnywhere);
        c.node(id).readIndex(bytes(ctx));
      }
    } else if (roll < 905) {
      if (up) c.node(id).transferLeadership(1 + rng.intBelow(n));
    } else if (roll < 915) {
      if (!outstanding.has(id)) c.compact(id);
    } else if (roll < 922) {
      if (up) {
        outstanding.delete(id); // a Ready being persisted dies with the process
        c.crash(id);
      }
    } else if (roll < 950) {
      if (!up) c.restart(id);
    } else if (roll < 955) {
      groups = new Map(ids.map((x) => [x, rng.intBelow(2)]));
    } else if (roll < 960) {
      groups = undefined;
    } else {
      for (const x of ids) {
        take(x);
        complete(x);
      }
    }
    observeReads();
  }

  // Faults stop: the group must settle on one leader followed by everyone, with equal logs.
  groups = undefined;
  for (const id of ids) if (c.member(id).node === undefined) c.restart(id);
  for (let round = 0; round < 400 && !converged(c, ids); round++) {
    for (const id of ids) c.tick(id);
    for (let k = 0; k < 50; k++) {
      for (const id of ids) {
        take(id);
        complete(id);
      }
      const batch = c.pending;
      c.pending = [];
      for (const m of batch) c.deliver(m);
      if (c.pending.length === 0 && ids.every((x) => c.member(x).node?.hasReady() === false)) break;
    }
  }
  expect(converged(c, ids), `seed ${seed}: no convergence after the faults stopped`).toBe(true);
  observeReads();
  c.checkLogMatching();
  return { stepsWithReadyOutstanding, appliedIndexes: appliedAt.size };
}

describe("the Ready contract under faults, leadership transfers and backpressure", () => {
  const variants: Array<[string, ClusterOptions]> = [
    ["plain, tight uncommitted budget", { maxUncommittedBytes: 40 }],
    [
      "pre-vote + check-quorum, small windows",
      { preVote: true, checkQuorum: true, maxInflightAppends: 2, maxAppendBytes: 16, maxUncommittedBytes: 64 },
    ],
    [
      "check-quorum, slow heartbeats",
      { checkQuorum: true, heartbeatTicks: 3, electionTicks: 7, maxInflightAppends: 1 },
    ],
  ];
  for (const [name, opts] of variants) {
    it(`${name}: acks, votes and applied entries are persisted first; reads linearizable; converges (20 seeds)`, () => {
      let readies = 0;
      for (let seed = 1; seed <= 20; seed++) readies += runWithFaults(seed, seed % 2 === 0 ? 5 : 3, opts, 3000);
      expect(readies).toBeGreaterThan(1000);
    });
  }
});

describe("the Ready contract with events arriving between ready() and advance()", () => {
  const variants: Array<[string, ClusterOptions]> = [
    ["plain", {}],
    [
      "pre-vote + check-quorum, small windows",
      { preVote: true, checkQuorum: true, maxInflightAppends: 2, maxAppendBytes: 16 },
    ],
    ["check-quorum, short timeouts", { checkQuorum: true, heartbeatTicks: 2, electionTicks: 5 }],
    ["pre-vote, tight uncommitted budget", { preVote: true, maxUncommittedBytes: 30 }],
  ];
  for (const [name, opts] of variants) {
    it(`${name}: the persistence contract, state machine safety and linearizable reads hold; converges (25 seeds)`, () => {
      let window = 0;
      let applied = 0;
      for (let seed = 1; seed <= 25; seed++) {
        const r = runWithReadyOutstanding(seed, seed % 2 === 0 ? 5 : 3, opts, 3000);
        window += r.stepsWithReadyOutstanding;
        applied += r.appliedIndexes;
      }
      // The window was really exercised and the groups did real work.
      expect(window).toBeGreaterThan(25 * 300);
      expect(applied).toBeGreaterThan(25 * 5);
    });
  }
});
