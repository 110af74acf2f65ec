// Review property: fast log-conflict backtracking (rejectHint / hintTerm) never probes below the
// last index where the follower's log really matches the leader's, never moves `next` to or
// below `match`, and ends with identical logs. Random divergent logs (with compacted prefixes on
// either side) are repaired by a real leader/follower pair of RawNodes.

import { driveReady } from "./support/ready-driver.js";
import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import type { Prng } from "../../src/base/prng.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { testRaftConfig } from "./support/cluster.js";
import { newMessage } from "../../src/raft/messages.js";
import { EntryType, MessageType } from "../../src/raft/types.js";
import type { Entry, Message, RaftConfig } from "../../src/raft/types.js";

const config = (id: number): RaftConfig => testRaftConfig(id, { peers: [1, 2], maxInflightAppends: 4 });

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

describe("review: fast backtracking", () => {
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
      const ls = storageWith(rng, lead, p);
      const fs = storageWith(rng, foll, p);
      const leader = new RawNode(config(1), ls);
      const follower = new RawNode(config(2), fs);
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
