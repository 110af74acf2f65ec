// RawNode: the Ready/advance contract, persistence before messages, restart from storage,
// proposal errors, election timing and status, and how a follower takes an incoming snapshot.
// The Ready contract under random faults: raw-node-ready.test.ts.

import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { seededPrng } from "../../src/base/prng.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { newMessage } from "../../src/raft/messages.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { EntryType, MessageType, RaftError } from "../../src/raft/types.js";
import type { Entry, Message, Snapshot } from "../../src/raft/types.js";
import { Cluster, bytes, testRaftConfig } from "./support/cluster.js";
import { persistReady } from "./support/ready-driver.js";

const config = testRaftConfig;

const persist = persistReady;

function vote(from: number, to: number, term: number): Message {
  return {
    type: MessageType.Vote,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(),
  };
}

function entry(term: number, index: number): Entry {
  return { term, index, type: EntryType.Normal, data: bytes(`${term}.${index}`) };
}

/** Entries 1..n of the given terms. */
function log(...terms: number[]): Entry[] {
  return terms.map((term, i) => entry(term, i + 1));
}

function codeOf(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RaftError) return e.code;
    throw e;
  }
  return "ok";
}

describe("persistence contract", () => {
  it("a vote in a Ready that crashed before being persisted was never promised", () => {
    const storage = new MemoryStorage();
    const node = new RawNode(config(2), storage);
    node.step(vote(1, 2, 1));
    const rd = node.ready();
    // The Ready both records the vote and carries the response: they go together.
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.map((m) => [m.type, m.reject])).toEqual([[MessageType.VoteResponse, false]]);
    // Crash before step 1: nothing persisted, nothing sent. The restarted replica has promised
    // nothing and may vote for another candidate in term 1.
    const restarted = new RawNode(config(2), storage);
    expect(restarted.status().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    restarted.step(vote(3, 2, 1));
    const rd2 = restarted.ready();
    expect(rd2.messages[0]?.to).toBe(3);
    expect(rd2.messages[0]?.reject).toBe(false);
  });

  it("a persisted vote survives a restart: the replica refuses a second candidate in that term", () => {
    const storage = new MemoryStorage();
    const node = new RawNode(config(2), storage);
    node.step(vote(1, 2, 1));
    const rd = node.ready();
    persist(storage, rd); // step 1; the response may now be sent
    node.advance(rd);
    const restarted = new RawNode(config(2), storage);
    expect(restarted.status().hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    restarted.step(vote(3, 2, 1));
    expect(restarted.ready().messages[0]?.reject).toBe(true);
  });

  it("entries acknowledged to the leader are in the same Ready as the acknowledgement", () => {
    const c = new Cluster(3, { seed: 2 });
    c.node(1).campaign();
    c.stabilize();
    c.node(1).propose(bytes("x"));
    c.processReady(1);
    for (const m of c.pending.splice(0)) c.deliver(m);
    const rd = c.node(2).ready();
    const ack = rd.messages.find((m) => m.type === MessageType.AppendResponse);
    expect(ack?.index).toBe(2);
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    expect(rd.mustSync).toBe(true);
    c.node(2).advance(rd);
  });

  it("a commit-only change needs no sync; term, vote and entries do", () => {
    const c = new Cluster(3, { seed: 3 });
    c.node(1).campaign();
    c.processReady(1);
    c.stabilize();
    c.node(1).propose(bytes("y"));
    c.processReady(1);
    c.processReady(1);
    for (const m of c.pending.splice(0)) c.deliver(m);
    c.processReady(2);
    c.processReady(3);
    for (const m of c.pending.splice(0)) c.deliver(m);
    const rd = c.node(1).ready(); // the leader learns the commit
    expect(rd.hardState?.commit).toBe(2);
    expect(rd.entries).toEqual([]);
    expect(rd.mustSync).toBe(false);
    c.node(1).advance(rd);
  });

  it("entries replaced while their Ready is being persisted are persisted again by the next Ready, which also carries the ack to the newer leader", () => {
    const append = (from: number, term: number, ents: Entry[]): Message => {
      const m = newMessage(MessageType.Append, from, 3, term);
      m.index = 1;
      m.logTerm = 1;
      m.commit = 1;
      m.entries = ents;
      return m;
    };
    const storage = new MemoryStorage();
    storage.append([entry(1, 1)]);
    storage.setHardState({ term: 1, vote: 0, commit: 1 });
    const node = new RawNode(config(3, { applied: 1 }), storage);
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

describe("a leader writes its log in parallel with replication (thesis §10.2.1)", () => {
  /** A 3-voter group led by 1 with everything applied, and a new entry proposed on 1. */
  function proposedOnLeader(): { c: Cluster; index: number } {
    const c = new Cluster(3);
    c.node(1).campaign();
    c.stabilize();
    expect(c.leader()).toBe(1);
    c.node(1).propose(bytes("x"));
    return { c, index: c.status(1).lastIndex };
  }

  it("a leader's Ready with new entries may send first; a follower's and a candidate's may not", () => {
    const { c, index } = proposedOnLeader();
    const rd = c.node(1).ready();
    expect(rd.sendFirst).toBe(true);
    expect(rd.mustSync).toBe(true);
    const appends = rd.messages.filter((m) => m.type === MessageType.Append);
    expect(appends.map((m) => [m.to, m.entries.map((e) => e.index)])).toEqual([
      [2, [index]],
      [3, [index]],
    ]);
    for (const m of appends) c.deliver(m);
    const follower = c.node(2).ready();
    expect(follower.messages.map((m) => m.type)).toEqual([MessageType.AppendResponse]);
    expect(follower.sendFirst).toBe(false);
    const candidate = new RawNode(config(1), new MemoryStorage());
    candidate.campaign();
    expect(candidate.ready().sendFirst).toBe(false);
  });

  it("the leader counts its own copy toward commit only once advance() says it is durable", () => {
    const { c, index } = proposedOnLeader();
    const leader = c.node(1);
    const rd = leader.ready();
    // Follower 2 stores and acknowledges the entry while the leader is still writing it.
    const toTwo = rd.messages.find((m) => m.type === MessageType.Append && m.to === 2)!;
    c.deliver(toTwo);
    const ack = c.node(2).ready();
    persist(c.member(2).storage, ack);
    c.node(2).advance(ack);
    leader.step(ack.messages[0]!);
    // One durable copy (the follower's) is not a quorum of three.
    expect(leader.status().hardState.commit).toBeLessThan(index);
    persist(c.member(1).storage, rd);
    leader.advance(rd);
    expect(leader.status().hardState.commit).toBe(index);
    // The new commit index goes to the followers in the next Ready.
    const next = leader.ready();
    expect(next.committedEntries.map((e) => e.index)).toEqual([index]);
    expect(next.messages.filter((m) => m.type === MessageType.Append).every((m) => m.commit === index)).toBe(true);
  });

  it("two followers' durable copies commit an entry the leader has not yet written; a leader that crashes before its write does not lose it", () => {
    const { c, index } = proposedOnLeader();
    const leader = c.node(1);
    const rd = leader.ready();
    for (const m of rd.messages) c.deliver(m);
    for (const id of [2, 3]) {
      const ack = c.node(id).ready();
      persist(c.member(id).storage, ack);
      c.node(id).advance(ack);
      leader.step(ack.messages[0]!);
    }
    expect(leader.status().hardState.commit).toBe(index);
    // The leader dies before its write: the entry lives on the two followers, and the group
    // elects one of them and keeps it.
    c.crash(1);
    c.node(2).campaign();
    c.stabilize();
    c.restart(1);
    // The new leader's heartbeats find 1 behind and bring it up to date.
    for (let i = 0; i < 5; i++) {
      c.tick(2);
      c.stabilize();
    }
    expect(c.leader()).toBe(2);
    for (const id of [1, 2, 3]) expect(c.member(id).storage.term(index), `replica ${id}`).toBe(rd.entries[0]!.term);
    c.checkLogMatching();
  });
});

describe("Ready / advance", () => {
  it("allows one outstanding Ready; hasReady is false until it is advanced", () => {
    const node = new RawNode(config(1), new MemoryStorage());
    node.campaign();
    expect(node.hasReady()).toBe(true);
    const rd = node.ready();
    expect(node.hasReady()).toBe(false);
    expect(() => node.ready()).toThrow(AssertionError);
    expect(() => node.advance({ ...rd })).toThrow(AssertionError);
    node.advance(rd);
    expect(node.hasReady()).toBe(false);
  });

  it("messages stepped between ready() and advance() surface in the next Ready", () => {
    const storage = new MemoryStorage();
    const node = new RawNode(config(1), storage);
    node.campaign();
    const rd = node.ready();
    persist(storage, rd);
    node.step({ ...vote(2, 1, 1), type: MessageType.VoteResponse });
    node.advance(rd);
    expect(node.hasReady()).toBe(true);
    const rd2 = node.ready();
    expect(rd2.softState?.role).toBe("leader");
    expect(rd2.entries.map((e) => `${e.term}/${e.index}`)).toEqual(["1/1"]);
  });

  it("restart replays committed entries after the application's applied index", () => {
    const c = new Cluster(3, { seed: 4 });
    c.node(1).campaign();
    c.stabilize();
    c.node(1).propose(bytes("a"));
    c.node(1).propose(bytes("b"));
    c.stabilize();
    const storage = c.member(2).storage;
    const node = new RawNode(config(2, { applied: 1 }), storage);
    const rd = node.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2, 3]);
    expect(rd.entries).toEqual([]);
  });

  it("a restart whose applied index is past the persisted commit raises the commit to it", () => {
    const storage = new MemoryStorage();
    storage.append([1, 2, 3].map((i) => ({ term: 1, index: i, type: 1, data: new Uint8Array() })));
    storage.setHardState({ term: 1, vote: 1, commit: 1 }); // the commit-only update to 3 was not synced
    const node = new RawNode(config(1, { applied: 3 }), storage);
    expect(node.status().hardState.commit).toBe(3);
    expect(node.status().applied).toBe(3);
  });
});

describe("propose errors", () => {
  it("NOT_LEADER on a follower that knows the leader, PROPOSAL_DROPPED when no leader is known", () => {
    const c = new Cluster(3, { seed: 5 });
    expect(codeOf(() => c.node(2).propose(bytes("x")))).toBe("PROPOSAL_DROPPED");
    c.node(1).campaign();
    expect(codeOf(() => c.node(1).propose(bytes("x")))).toBe("PROPOSAL_DROPPED"); // candidate
    c.stabilize();
    expect(codeOf(() => c.node(2).propose(bytes("x")))).toBe("NOT_LEADER");
    expect(codeOf(() => c.node(1).propose(bytes("x")))).toBe("ok");
  });

  it("TRANSFER_IN_PROGRESS while a transfer is under way", () => {
    const c = new Cluster(3, { seed: 6 });
    c.node(1).campaign();
    c.stabilize();
    c.crash(3);
    c.node(1).transferLeadership(3);
    expect(c.status(1).leadTransferee).toBe(3);
    expect(codeOf(() => c.node(1).propose(bytes("x")))).toBe("TRANSFER_IN_PROGRESS");
    c.tick(1, 10); // an election timeout aborts it
    expect(c.status(1).leadTransferee).toBe(0);
    expect(codeOf(() => c.node(1).propose(bytes("x")))).toBe("ok");
  });

  it("UNCOMMITTED_LIMIT past maxUncommittedBytes; the empty leader entry never counts", () => {
    const c = new Cluster(3, { seed: 7, maxUncommittedBytes: 8 });
    c.node(1).campaign();
    c.stabilize();
    c.crash(2);
    c.crash(3);
    expect(codeOf(() => c.node(1).propose(bytes("12345")))).toBe("ok");
    expect(codeOf(() => c.node(1).propose(bytes("123")))).toBe("ok");
    expect(codeOf(() => c.node(1).propose(bytes("1")))).toBe("UNCOMMITTED_LIMIT");
    expect(codeOf(() => c.node(1).propose(new Uint8Array()))).toBe("ok");
    // Once committed and applied, the bytes leave the tail.
    c.restart(2);
    c.processAll();
    c.tick(1);
    c.stabilize();
    expect(codeOf(() => c.node(1).propose(bytes("12345678")))).toBe("ok");
  });
});

describe("elections", () => {
  it("the randomized election timeout lies in [electionTicks, 2 * electionTicks)", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const node = new RawNode(config(1, { random: seededPrng(seed), peers: [1, 2, 3] }), new MemoryStorage());
      let ticks = 0;
      while (node.status().softState.role === "follower") {
        node.tick();
        ticks++;
        expect(ticks).toBeLessThan(20);
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      seen.add(ticks);
    }
    expect(seen.size).toBe(10); // every value of the range occurs
  });

  it("logs elections and step-downs through the optional logger", () => {
    const lines: string[] = [];
    const node = new RawNode(
      config(1, {
        peers: [1],
        logger: { debug: () => undefined, info: (s) => lines.push(s), warn: (s) => lines.push(s) },
      }),
      new MemoryStorage(),
    );
    node.campaign();
    expect(lines).toContain("1 became leader at term 1");
  });

  it("status reports progress only on the leader", () => {
    const c = new Cluster(3, { seed: 9 });
    c.node(1).campaign();
    c.stabilize();
    const st = c.status(1);
    expect([...(st.progress?.keys() ?? [])]).toEqual([1, 2, 3]);
    expect(st.progress?.get(2)).toMatchObject({ match: 1, next: 2, state: "replicate" });
    expect(c.status(2).progress).toBeUndefined();
    expect(c.status(2).softState).toEqual({ leader: 1, role: "follower" });
  });

  it("a ReadIndex with no leader known is dropped (no ReadState, no message)", () => {
    const node = new RawNode(config(2), new MemoryStorage());
    node.readIndex(bytes("r"));
    expect(node.hasReady()).toBe(false);
  });
});

describe("RawNode refuses a restart that would silently skip entries or never campaign", () => {
  it("asserts when the given applied index is below the storage snapshot", () => {
    const storage = new MemoryStorage();
    storage.applySnapshot({
      metadata: { index: 5, term: 2, confState: { voters: [1, 2, 3], learners: [] } },
      data: new Uint8Array(),
    });
    storage.setHardState({ term: 2, vote: 1, commit: 5 });
    // Entries 1..4 exist only inside the snapshot: resuming at 3 would apply 6.. on a state missing 4 and 5.
    expect(() => new RawNode(config(1, { applied: 3 }), storage)).toThrow(AssertionError);
    expect(new RawNode(config(1, { applied: 5 }), storage).status().applied).toBe(5);
    expect(new RawNode(config(1), storage).status().applied).toBe(5);
  });

  it("asserts when it has no voters (peers missing and no stored ConfState)", () => {
    expect(() => new RawNode(config(1, { peers: [] }), new MemoryStorage())).toThrow(/no voters/);
  });
});

// A follower never goes backwards (a snapshot at or below its commit is ignored), never truncates
// entries it already holds (a snapshot whose last entry it has only advances the commit), and
// otherwise replaces its whole log, with commit and (after the Ready) applied at the snapshot
// index and no pre-snapshot entry handed out.
describe("a follower receiving a snapshot", () => {
  /** Follower 2 at term 3 holding `entries`, committed (and applied) at `commit`. */
  function follower(entries: Entry[], commit: number): { node: RawNode; storage: MemoryStorage } {
    const storage = new MemoryStorage();
    storage.append(entries);
    storage.setHardState({ term: 3, vote: 1, commit });
    return { node: new RawNode(config(2, { applied: commit }), storage), storage };
  }

  function snapshotMsg(index: number, term: number): Message {
    const m = newMessage(MessageType.Snapshot, 1, 2, 3);
    const snap: Snapshot = {
      metadata: { index, term, confState: { voters: [1, 2, 3], learners: [] } },
      data: new Uint8Array([9]),
    };
    m.snapshot = snap;
    return m;
  }

  it("ignores a snapshot at or below its commit and answers with its commit", () => {
    const { node } = follower(log(1, 1, 2, 2, 3), 4);
    node.step(snapshotMsg(3, 2));
    const rd = node.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.entries).toEqual([]);
    expect(rd.messages.map((m) => [m.type, m.index, m.reject])).toEqual([[MessageType.AppendResponse, 4, false]]);
    node.advance(rd);
    expect(node.status().lastIndex).toBe(5);
    expect(node.status().hardState.commit).toBe(4);
  });

  it("keeps its log when it already holds the snapshot's last entry, and only advances the commit", () => {
    const { node } = follower(log(1, 1, 2, 2, 3, 3), 2);
    node.step(snapshotMsg(5, 3));
    const rd = node.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.hardState?.commit).toBe(5);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([3, 4, 5]);
    expect(rd.messages.map((m) => [m.type, m.index])).toEqual([[MessageType.AppendResponse, 5]]);
    node.advance(rd);
    expect(node.status().lastIndex).toBe(6); // entry 6 after the snapshot point survives
  });

  it("replaces a conflicting log: commit and applied at the snapshot index, nothing older handed out", () => {
    const { node, storage } = follower(log(1, 1, 2, 2, 2, 2), 2);
    node.step(snapshotMsg(5, 3)); // our entry 5 has term 2: conflict
    const rd = node.ready();
    expect(rd.snapshot?.metadata.index).toBe(5);
    expect(rd.hardState?.commit).toBe(5);
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries).toEqual([]);
    expect(rd.messages.map((m) => [m.type, m.index])).toEqual([[MessageType.AppendResponse, 5]]);
    storage.applySnapshot(rd.snapshot as Snapshot);
    storage.setHardState(rd.hardState ?? { term: 0, vote: 0, commit: 0 });
    node.advance(rd);
    const st = node.status();
    expect([st.lastIndex, st.applied, st.hardState.commit]).toEqual([5, 5, 5]);
    expect(node.hasReady()).toBe(false);
    // A duplicate of the same snapshot is now at the commit: ignored.
    node.step(snapshotMsg(5, 3));
    const rd2 = node.ready();
    expect(rd2.snapshot).toBeUndefined();
    node.advance(rd2);
  });
});
