// Review property: the real driver awaits an fsync between ready() and advance(), and messages,
// ticks, proposals and reads keep arriving meanwhile. This driver takes a Ready, lets random
// events hit the replica while it is outstanding, and only later persists, sends, applies and
// advances it (or crashes, losing it). Checked at every persisted Ready: current-term append
// acknowledgements cover only persisted entries, granted votes are the persisted vote, applied
// entries are persisted and identical everywhere (state machine safety), the persisted commit
// stays within the persisted log; reads are linearizable; the group converges once faults stop.

import { persistReady } from "./support/ready-driver.js";
import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import { describeMessage } from "../../src/raft/describe.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { newMessage } from "../../src/raft/messages.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { EntryType, MessageType } from "../../src/raft/types.js";
import type { Entry, Message, Ready, ReplicaId } from "../../src/raft/types.js";
import { Cluster, bytes, checkReadStates, sameBytes, tolerateRefusals } from "./support/cluster.js";
import type { ClusterOptions } from "./support/cluster.js";

interface RunStats {
  stepsWithReadyOutstanding: number;
  appliedIndexes: number;
}

function run(seed: number, n: number, opts: ClusterOptions, steps: number): RunStats {
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
    const hs = s.hardStateCopy();
    const last = s.lastIndex();
    expect(hs.commit, `${id}: persisted commit past the persisted log (seed ${seed})`).toBeLessThanOrEqual(last);
    // 2. send
    for (const msg of rd.messages) {
      if (msg.term === hs.term) {
        const what = `${id}: ${describeMessage(msg)}, persisted log ${last}, vote ${hs.vote} (seed ${seed})`;
        if (msg.type === MessageType.AppendResponse && !msg.reject) expect(msg.index, what).toBeLessThanOrEqual(last);
        if (msg.type === MessageType.VoteResponse && !msg.reject) expect(hs.vote, what).toBe(msg.to);
      }
      c.pending.push(msg);
    }
    // 3. apply
    if (rd.snapshot !== undefined) {
      const at = rd.snapshot.metadata.index;
      m.applied = m.applied.filter((e) => e.index <= at);
    }
    for (const e of rd.committedEntries) {
      const persisted = e.index < s.firstIndex() || (e.index <= last && s.term(e.index) === e.term);
      expect(persisted, `${id} applies unpersisted ${e.term}/${e.index} (seed ${seed})`).toBe(true);
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
  const converged = (): boolean => {
    const lead = c.leader();
    if (lead === 0) return false;
    const ls = c.status(lead);
    return ids.every((id) => {
      const st = c.status(id);
      return (
        st.softState.leader === lead &&
        st.hardState.term === ls.hardState.term &&
        st.lastIndex === ls.lastIndex &&
        st.hardState.commit === ls.lastIndex
      );
    });
  };
  for (let round = 0; round < 400 && !converged(); round++) {
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
  expect(converged(), `seed ${seed}: no convergence after the faults stopped`).toBe(true);
  observeReads();
  c.checkLogMatching();
  return { stepsWithReadyOutstanding, appliedIndexes: appliedAt.size };
}

describe("review: events between ready() and advance()", () => {
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
        const r = run(seed, seed % 2 === 0 ? 5 : 3, opts, 3000);
        window += r.stepsWithReadyOutstanding;
        applied += r.appliedIndexes;
      }
      // The window was really exercised and the groups did real work.
      expect(window).toBeGreaterThan(25 * 300);
      expect(applied).toBeGreaterThan(25 * 5);
    });
  }
});

describe("review: entries replaced while their Ready is being persisted", () => {
  const entry = (term: number, index: number): Entry => ({
    term,
    index,
    type: EntryType.Normal,
    data: bytes(`${term}.${index}`),
  });
  const append = (from: number, term: number, ents: Entry[]): Message => {
    const m = newMessage(MessageType.Append, from, 3, term);
    m.index = 1;
    m.logTerm = 1;
    m.commit = 1;
    m.entries = ents;
    return m;
  };

  it("are persisted again by the next Ready, which also carries the ack to the newer leader", () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1)]);
    storage.setHardState({ term: 1, vote: 0, commit: 1 });
    const node = new RawNode(
      {
        id: 3,
        peers: [1, 2, 3],
        electionTicks: 10,
        heartbeatTicks: 1,
        random: seededPrng(3),
        applied: 1,
        maxInflightAppends: 8,
        maxAppendBytes: 1 << 20,
        maxUncommittedBytes: 0,
        preVote: false,
        checkQuorum: false,
      },
      storage,
    );
    node.step(append(1, 2, [entry(2, 2), entry(2, 3)]));
    const rd1 = node.ready(); // being persisted...
    expect(rd1.entries.map((e) => `${e.term}/${e.index}`)).toEqual(["2/2", "2/3"]);
    // ...when the leader of term 3 overwrites both entries.
    node.step(append(2, 3, [entry(3, 2), entry(3, 3)]));
    storage.append(rd1.entries);
    if (rd1.hardState !== undefined) storage.setHardState(rd1.hardState);
    node.advance(rd1); // must not mark the replacements (same indexes, other term) as stable
    const rd2 = node.ready();
    expect(rd2.entries.map((e) => `${e.term}/${e.index}`)).toEqual(["3/2", "3/3"]);
    expect(rd2.hardState?.term).toBe(3);
    storage.append(rd2.entries);
    if (rd2.hardState !== undefined) storage.setHardState(rd2.hardState);
    const ack = rd2.messages.find((m) => m.type === MessageType.AppendResponse && m.to === 2);
    expect(ack?.index).toBe(3);
    expect([storage.term(2), storage.term(3)]).toEqual([3, 3]); // what the ack promises is durable
    node.advance(rd2);
    expect(node.hasReady()).toBe(false);
  });
});
