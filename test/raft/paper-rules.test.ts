// The safety rules of the Raft paper, each as a named test: election safety, the figure-8
// commit rule, log matching, and the election restriction (up-to-date check) both ways.

import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { newMessage } from "../../src/raft/messages.js";
import { EntryType, MessageType } from "../../src/raft/types.js";
import type { Entry, Message, RaftConfig } from "../../src/raft/types.js";
import { Cluster, bytes, testRaftConfig, text } from "./support/cluster.js";

function entry(term: number, index: number, data = ""): Entry {
  return { term, index, type: EntryType.Normal, data: bytes(data) };
}

const config = (id: number, peers: number[]): RaftConfig => testRaftConfig(id, { peers, maxInflightAppends: 16 });

function voteRequest(from: number, to: number, term: number, lastIndex: number, lastTerm: number): Message {
  return { ...newMessage(MessageType.Vote, from, to, term), index: lastIndex, logTerm: lastTerm };
}

/** A voter whose persisted log is `log` at `term`; returns its answer to one Vote request. */
function answerVote(log: Entry[], term: number, req: Message): Message {
  const storage = new MemoryStorage();
  storage.append(log);
  storage.setHardState({ term, vote: 0, commit: 0 });
  const node = new RawNode(config(req.to, [1, 2, 3]), storage);
  node.step(req);
  const rd = node.ready();
  const resp = rd.messages.find((m) => m.type === MessageType.VoteResponse);
  if (resp === undefined) throw new Error("no vote response");
  return resp;
}

describe("election restriction (§5.4.1): a vote goes only to a candidate whose log is at least as up to date", () => {
  it("a shorter log with a higher last term wins the vote", () => {
    const voterLog = [entry(1, 1), entry(1, 2), entry(1, 3), entry(1, 4)];
    const resp = answerVote(voterLog, 1, voteRequest(1, 2, 3, 2, 2));
    expect(resp.reject).toBe(false);
    expect(resp.term).toBe(3);
  });

  it("a longer log with a lower last term loses the vote", () => {
    const voterLog = [entry(1, 1), entry(2, 2)];
    const resp = answerVote(voterLog, 2, voteRequest(1, 2, 3, 10, 1));
    expect(resp.reject).toBe(true);
  });

  it("with equal last terms the longer log wins and the shorter loses", () => {
    const voterLog = [entry(1, 1), entry(1, 2), entry(1, 3)];
    expect(answerVote(voterLog, 1, voteRequest(1, 2, 2, 3, 1)).reject).toBe(false);
    expect(answerVote(voterLog, 1, voteRequest(1, 2, 2, 2, 1)).reject).toBe(true);
  });
});

describe("election safety: at most one leader per term", () => {
  it("holds under random message loss, reordering and crashes (60 seeds)", () => {
    let terms = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const c = new Cluster(5, { seed });
      const rng = seededPrng(seed);
      for (let step = 0; step < 1500; step++) {
        const id = 1 + rng.intBelow(5);
        const up = c.members.get(id)?.node !== undefined;
        const roll = rng.intBelow(100);
        if (roll < 45) {
          if (up) c.tick(id);
        } else if (roll < 88) {
          if (c.pending.length > 0) {
            const i = rng.intBelow(c.pending.length);
            if (rng.intBelow(10) === 0) c.drop(i);
            else c.deliverAt(i); // any order
          }
        } else if (roll < 89) {
          if (up) c.crash(id);
        } else if (roll < 93) {
          if (!up) c.restart(id);
        } else {
          const lead = c.leader();
          if (lead !== 0) c.node(lead).propose(bytes(`s${seed}-${step}`));
        }
        c.processAll(); // observeLeaders throws on a second leader in a term
      }
      expect(c.leaders.size, `seed ${seed}`).toBeGreaterThan(0);
      terms += c.leaders.size;
    }
    // Many elections happened (leaders crash and get deposed), so the property was exercised.
    expect(terms).toBeGreaterThan(120);
  });
});

describe("figure 8 (§5.4.2): a leader never commits an entry of an earlier term by counting replicas", () => {
  it("an old-term entry stored on a majority stays uncommitted, and a later leader may overwrite it", () => {
    const c = new Cluster(5, { seed: 8 });
    const between =
      (...ids: number[]) =>
      (m: Message) =>
        ids.includes(m.to) && ids.includes(m.from);
    const votesOnly = (m: Message) => m.type === MessageType.Vote || m.type === MessageType.VoteResponse;

    // (a) 1 leads term 1 and replicates its empty entry everywhere; then 1/2 "a" reaches only 2.
    c.node(1).campaign();
    c.stabilize();
    expect(c.status(1).softState.role).toBe("leader");
    c.node(1).propose(bytes("a"));
    c.stabilize(between(1, 2));
    expect(c.status(1).hardState.commit).toBe(1);

    // (b) 1 crashes; 5 wins term 2 with the votes of 3 and 4 and appends 2/2 locally only.
    c.crash(1);
    c.node(5).campaign();
    c.stabilize(votesOnly);
    expect(c.status(5).softState.role).toBe("leader");
    expect(c.status(5).hardState.term).toBe(2);
    c.processAll();
    c.pending = [];

    // (c) 5 crashes; 1 restarts and wins term 3 (2, 3 and 4 vote for it: its log 1/2 is the
    // most up to date). It replicates 1/2 to 3; its own entry 3/3 goes nowhere (appends are cut
    // at index 2 in flight, as if they had been sent one entry at a time).
    c.crash(5);
    c.restart(1);
    for (let attempt = 0; attempt < 3 && c.leader() !== 1; attempt++) {
      c.node(1).campaign(); // the first attempt may collide with term 2, where 3 and 4 voted for 5
      c.stabilize(votesOnly);
    }
    expect(c.leader()).toBe(1);
    expect(c.status(1).hardState.term).toBe(3);
    c.tick(1); // heartbeat: the followers answer and get appends
    const upTo2 = (m: Message): Message =>
      m.type === MessageType.Append ? { ...m, entries: m.entries.filter((e) => e.index <= 2) } : m;
    c.stabilize(between(1, 2, 3), upTo2);
    expect(c.member(3).storage.term(2)).toBe(1);
    const progress = c.status(1).progress;
    expect(progress?.get(2)?.match).toBe(2);
    expect(progress?.get(3)?.match).toBe(2);
    // 1/2 is stored on 1, 2 and 3 - a majority of 5 - and 1 knows it; but it is from term 1, so
    // the leader of term 3 must not count it committed.
    expect(c.status(1).hardState.commit).toBe(1);

    // (d) 1 crashes before 3/3 spreads; 5 restarts and wins term 4 (its last term 2 beats the
    // last term 1 of 2, 3 and 4) and overwrites index 2 everywhere. Safe: 1/2 was never committed.
    c.crash(1);
    c.restart(5);
    for (let attempt = 0; attempt < 3 && c.leader() !== 5; attempt++) {
      c.node(5).campaign();
      c.stabilize(between(2, 3, 4, 5));
    }
    expect(c.leader()).toBe(5);
    c.tick(5);
    c.stabilize(between(2, 3, 4, 5));
    for (const id of [2, 3, 4, 5]) {
      expect(c.member(id).storage.term(2), `replica ${id}`).toBe(2);
      expect(
        c.member(id).applied.some((e) => text(e.data) === "a"),
        `replica ${id}`,
      ).toBe(false);
    }
    // 1 comes back and is repaired too; had it committed 1/2 at (c), the cluster's checker would
    // now have seen index 2 applied with two different entries.
    c.restart(1);
    c.tick(5);
    c.stabilize();
    expect(c.member(1).storage.term(2)).toBe(2);
    c.checkLogMatching();
  });

  it("the old-term entry commits once an entry of the leader's own term is stored on a majority", () => {
    const c = new Cluster(3, { seed: 3 });
    c.node(1).campaign();
    c.stabilize();
    c.node(1).propose(bytes("old"));
    c.stabilize((m) => m.to !== 3 && m.from !== 3 && m.to !== 2); // only 1 has 1/2
    expect(c.status(1).hardState.commit).toBe(1);
    // 1 restarts and wins term 2; its empty entry 2/3 carries 1/2 along.
    c.crash(1);
    c.restart(1);
    c.node(1).campaign();
    c.stabilize();
    const st = c.status(1);
    expect(st.softState.role).toBe("leader");
    // The term-2 empty entry at 3 carried 1/2 with it: both are committed now.
    expect(st.hardState.commit).toBe(3);
    expect(c.member(2).applied.map((e) => text(e.data))).toContain("old");
  });
});

describe("log matching: same index and term imply identical prefixes", () => {
  it("holds on every pair of replicas after random faults (20 seeds)", () => {
    for (let seed = 100; seed < 120; seed++) {
      const c = new Cluster(3, { seed });
      const rng = seededPrng(seed);
      for (let step = 0; step < 300; step++) {
        const id = 1 + rng.intBelow(3);
        const roll = rng.intBelow(100);
        if (roll < 40) c.tick(id);
        else if (roll < 80) {
          if (c.pending.length > 0) {
            const i = rng.intBelow(c.pending.length);
            if (rng.intBelow(8) === 0) c.drop(i);
            else c.deliverAt(i);
          }
        } else {
          const lead = c.leader();
          if (lead !== 0) c.node(lead).propose(bytes(`${step}`));
        }
        c.processAll();
      }
      c.checkLogMatching();
    }
  });
});
