// Flow control: the inflights ring (count and byte caps), the probe/replicate/snapshot
// progress state machine, and, between a real leader and follower, fast log-conflict
// backtracking (rejectHint / hintTerm) after a rejected append.

import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { seededPrng } from "../../src/base/prng.js";
import type { Prng } from "../../src/base/prng.js";
import { Inflights } from "../../src/raft/inflights.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { newMessage } from "../../src/raft/messages.js";
import { Progress } from "../../src/raft/progress.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { EntryType, MessageType } from "../../src/raft/types.js";
import type { Entry, Message, RaftConfig } from "../../src/raft/types.js";
import { testRaftConfig } from "./support/cluster.js";
import { driveReady } from "./support/ready-driver.js";

describe("Inflights", () => {
  it("fills up to the count cap and frees acknowledged appends in order, across the ring's wrap", () => {
    const inf = new Inflights(3, 0);
    inf.add(1, 10);
    inf.add(2, 10);
    inf.add(3, 10);
    expect(inf.full()).toBe(true);
    expect(() => inf.add(4, 1)).toThrow(AssertionError);
    inf.freeLE(2);
    expect(inf.count).toBe(1);
    expect(inf.bytes).toBe(10);
    inf.add(4, 5);
    inf.add(5, 5); // wraps around the ring
    expect(inf.full()).toBe(true);
    inf.freeLE(4);
    expect(inf.count).toBe(1);
    expect(inf.bytes).toBe(5);
    inf.freeLE(100);
    expect(inf.count).toBe(0);
    expect(inf.bytes).toBe(0);
  });

  it("is full once the byte cap is reached, whatever the count", () => {
    const inf = new Inflights(100, 20);
    inf.add(1, 15);
    expect(inf.full()).toBe(false);
    inf.add(2, 5);
    expect(inf.full()).toBe(true);
    inf.freeLE(1);
    expect(inf.full()).toBe(false);
  });

  it("freeFirst releases exactly the oldest append", () => {
    const inf = new Inflights(2, 0);
    inf.add(3, 1);
    inf.add(7, 1);
    inf.freeFirst();
    expect(inf.count).toBe(1);
    inf.freeLE(6);
    expect(inf.count).toBe(1);
  });

  it("requires increasing indexes", () => {
    const inf = new Inflights(4, 0);
    inf.add(5, 1);
    expect(() => inf.add(5, 1)).toThrow(AssertionError);
  });
});

describe("Progress", () => {
  it("probe sends one append at a time until answered", () => {
    const pr = new Progress(6, 4, 0);
    expect(pr.state).toBe("probe");
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(1, 6, 1);
    expect(pr.isPaused()).toBe(true);
    expect(pr.next).toBe(6); // probe does not advance next optimistically
    expect(pr.maybeUpdate(6)).toBe(true);
    expect(pr.isPaused()).toBe(false);
    expect(pr.match).toBe(6);
    expect(pr.next).toBe(7);
  });

  it("replicate pipelines up to the inflight cap and advances next optimistically", () => {
    const pr = new Progress(1, 2, 0);
    pr.becomeReplicate();
    pr.sentEntries(2, 2, 10);
    pr.sentEntries(3, 5, 10);
    expect(pr.next).toBe(6);
    expect(pr.isPaused()).toBe(true);
    pr.maybeUpdate(2);
    pr.inflights.freeLE(2);
    expect(pr.isPaused()).toBe(false);
  });

  it("maybeDecrTo in probe uses the hint but ignores answers to other probes", () => {
    const pr = new Progress(11, 4, 0);
    pr.match = 2;
    expect(pr.maybeDecrTo(5, 3)).toBe(false); // not our probe (we probed at 10)
    expect(pr.maybeDecrTo(10, 4)).toBe(true);
    expect(pr.next).toBe(5);
    pr.sentEntries(0, 4, 0);
    expect(pr.maybeDecrTo(4, 0)).toBe(true);
    expect(pr.next).toBe(3); // never below match + 1
  });

  it("maybeDecrTo in replicate falls back to match + 1 and ignores stale rejections", () => {
    const pr = new Progress(1, 4, 0);
    pr.match = 5;
    pr.becomeReplicate();
    pr.sentEntries(3, 8, 0);
    expect(pr.maybeDecrTo(4, 0)).toBe(false);
    expect(pr.maybeDecrTo(7, 0)).toBe(true);
    expect(pr.next).toBe(6);
  });

  it("maybeDecrTo in probe ignores a rejection at or below match: a follower whose log lost acknowledged entries is not probed again at once, forever", () => {
    // The follower acknowledged up to 79, then lost 63..79 (a disk that lied about fsync): it
    // rejects the probe at 79 with a hint of 62, below what the leader may send (match + 1).
    const pr = new Progress(80, 4, 0);
    pr.match = 79;
    expect(pr.maybeDecrTo(79, 62)).toBe(false);
    expect(pr.next).toBe(80);
  });

  it("snapshot pauses everything; leaving it probes from after the snapshot", () => {
    const pr = new Progress(3, 4, 0);
    pr.match = 2;
    pr.becomeSnapshot(20);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.next).toBe(21);
    expect(pr.pendingSnapshot).toBe(0);
  });
});

const pairConfig = (id: number): RaftConfig => testRaftConfig(id, { peers: [1, 2], maxInflightAppends: 4 });

/** `n` non-decreasing terms drawn from `pool` (ascending), none below `min`. */
function terms(rng: Prng, n: number, pool: number[], min: number): number[] {
  const usable = pool.filter((t) => t >= min);
  const out: number[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    at = Math.min(usable.length - 1, at + (rng.intBelow(3) === 0 ? 1 : 0));
    out.push(usable[at] as number);
  }
  return out;
}

function entries(fromIndex: number, ts: number[], tag: string): Entry[] {
  return ts.map((term, i) => ({
    term,
    index: fromIndex + i,
    type: EntryType.Normal,
    data: Uint8Array.from(`${tag}${fromIndex + i}`, (c) => c.charCodeAt(0)),
  }));
}

/** A replica's storage holding `log`, committed (and compacted, maybe) at or below `commitMax`. */
function storageWith(rng: Prng, log: Entry[], commitMax: number): MemoryStorage {
  const s = new MemoryStorage();
  s.append(log);
  const commit = rng.intBelow(commitMax + 1);
  s.setHardState({ term: 20, vote: 0, commit });
  if (commit > 0 && rng.intBelow(2) === 0) {
    s.createSnapshot(commit, { voters: [1, 2], learners: [] }, new Uint8Array(0));
    s.compact(commit);
  }
  return s;
}

describe("fast backtracking between a leader and a follower with divergent logs", () => {
  it("never probes below the true match point, keeps next > match, and repairs the follower (300 random log pairs)", () => {
    let totalRejections = 0;
    let compactedProbes = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const rng = seededPrng(seed);
      // Common prefix (terms 1..3), then suffixes whose terms never coincide (so by log matching
      // no suffix entry of one log equals an entry of the other): the true match point is `p`.
      const p = rng.intBelow(9);
      const prefix = entries(1, terms(rng, p, [1, 2, 3], 1), "c");
      const base = prefix[prefix.length - 1]?.term ?? 1;
      const lead = [...prefix, ...entries(p + 1, terms(rng, rng.intBelow(9), [4, 6, 8, 10], base), "l")];
      const foll = [...prefix, ...entries(p + 1, terms(rng, rng.intBelow(9), [5, 7, 9, 11], base), "f")];
      // Either side may have compacted its common prefix.
      const ls = storageWith(rng, lead, p);
      const fs = storageWith(rng, foll, p);
      const leader = new RawNode(pairConfig(1), ls);
      const follower = new RawNode(pairConfig(2), fs);
      const nodes = new Map([
        [1, { node: leader, storage: ls }],
        [2, { node: follower, storage: fs }],
      ]);
      leader.campaign();
      const won: Message = newMessage(MessageType.VoteResponse, 2, 1, 21);
      let queue: Message[] = [];
      let rejections = 0;
      for (let round = 0; round < 100; round++) {
        for (const { node, storage } of nodes.values()) {
          // Vote requests are answered by hand above; everything else travels.
          driveReady(node, storage, { send: (m) => m.type !== MessageType.Vote && queue.push(m) });
        }
        if (round === 0) queue.push(won);
        if (queue.length === 0) break;
        const batch = queue;
        queue = [];
        for (const m of batch) {
          const ctx = `seed ${seed}, p=${p}, ${m.type}`;
          if (m.type === MessageType.Append) expect(m.index, ctx).toBeGreaterThanOrEqual(p);
          expect(m.type, ctx).not.toBe(MessageType.Snapshot);
          if (m.type === MessageType.AppendResponse && m.reject) rejections++;
          nodes.get(m.to)?.node.step(m);
          const pr = leader.status().progress?.get(2);
          if (pr !== undefined) expect(pr.next, ctx).toBeGreaterThan(pr.match);
        }
      }
      expect(leader.status().softState.role).toBe("leader");
      const last = leader.status().lastIndex;
      expect(follower.status().lastIndex, `seed ${seed}`).toBe(last);
      expect(follower.status().hardState.commit, `seed ${seed}`).toBe(last);
      expect(fs.term(last)).toBe(ls.term(last));
      // One round trip per distinct term of the divergent tails at most, not one per entry.
      expect(rejections, `seed ${seed}`).toBeLessThanOrEqual(9);
      totalRejections += rejections;
      if (fs.firstIndex() > 1 && rejections > 0) compactedProbes++;
    }
    // The cases really diverged, often next to a compacted prefix.
    expect(totalRejections).toBeGreaterThan(300);
    expect(compactedProbes).toBeGreaterThan(30);
  });
});
