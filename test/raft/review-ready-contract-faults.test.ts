// Review property: under random faults (loss, reordering, duplication, partitions, crashes with
// and without a half-handled Ready, compaction) plus leadership transfers, reportUnreachable and
// uncommitted-bytes backpressure, every Ready keeps the persistence contract as seen from
// outside: once it is persisted, every append acknowledgement of the current term covers only
// persisted entries, every granted vote is the persisted vote, every committed entry handed to
// the application is persisted, and the persisted commit never passes the persisted log. Reads
// are linearizable, and once the faults stop the group converges and takes proposals again (the
// uncommitted-bytes budget did not leak).

import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import { describeMessage } from "../../src/raft/describe.js";
import { MessageType } from "../../src/raft/types.js";
import type { Message, Ready, ReplicaId } from "../../src/raft/types.js";
import { Cluster, bytes, checkReadStates, text, tolerateRefusals } from "./support/cluster.js";
import type { ClusterOptions } from "./support/cluster.js";

/** A Cluster whose driver checks each Ready right after persisting it, before its messages go out. */
class ContractCheckingCluster extends Cluster {
  readies = 0;

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
    if (rd !== undefined) this.check(id, rd);
    return true;
  }

  private check(id: ReplicaId, rd: Ready): void {
    this.readies++;
    const s = this.member(id).storage;
    const hs = s.hardStateCopy();
    const last = s.lastIndex();
    expect(hs.commit, `${id}: persisted commit past the persisted log`).toBeLessThanOrEqual(last);
    for (const e of rd.committedEntries) {
      if (e.index < s.firstIndex()) continue; // compacted since: covered by the snapshot
      expect(e.index <= last && s.term(e.index) === e.term, `${id} applies unpersisted ${e.term}/${e.index}`).toBe(
        true,
      );
    }
    for (const msg of rd.messages) {
      // A message built in an earlier term of this Ready window speaks for a state the replica
      // has since legitimately left (a newer leader truncated it): only current-term ones here.
      if (msg.term !== hs.term) continue;
      const what = `${id}: ${describeMessage(msg)} with persisted log ${last}, vote ${hs.vote}`;
      if (msg.type === MessageType.AppendResponse && !msg.reject) expect(msg.index, what).toBeLessThanOrEqual(last);
      if (msg.type === MessageType.VoteResponse && !msg.reject) expect(hs.vote, what).toBe(msg.to);
    }
  }
}

function run(seed: number, n: number, opts: ClusterOptions, steps: number): number {
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
  const converged = (): boolean => {
    const lead = c.leader();
    if (lead === 0) return false;
    const { lastIndex, hardState } = c.status(lead);
    return ids.every((id) => {
      const st = c.status(id);
      // Everyone follows this leader in its term (not a stale leader of an older one).
      return (
        st.softState.leader === lead &&
        st.hardState.term === hardState.term &&
        st.lastIndex === lastIndex &&
        st.hardState.commit === lastIndex
      );
    });
  };
  for (let round = 0; round < 600 && !converged(); round++) {
    for (const id of ids) c.tick(id);
    c.stabilize();
  }
  expect(converged(), `seed ${seed}: no convergence after the faults stopped`).toBe(true);
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

describe("review: the Ready contract under faults, transfers and backpressure", () => {
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
      for (let seed = 1; seed <= 20; seed++) readies += run(seed, seed % 2 === 0 ? 5 : 3, opts, 3000);
      expect(readies).toBeGreaterThan(1000);
    });
  }
});
