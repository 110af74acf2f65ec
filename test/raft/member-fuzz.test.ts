// A lying member (issue 12's review): replica 3 of a group keeps running honestly while its key
// holder also steps forged messages FROM 3 (the only sender its node certificate allows) into
// replicas 1 and 2: every type, with terms, indexes, commits and snapshots near the real ones.
// The node (node-host.ts stepSafely) turns an AssertionError out of the core into a node crash,
// so one that a forged message trips would be a remote crash of every node sharing a shard
// with the liar. Raft is not Byzantine fault tolerant: a lying member may break safety (the
// harness's checkers throw then, and the run ends), which this test does not judge.

import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { seededPrng, type Prng } from "../../src/base/prng.js";
import { EntryType, MessageType, type Entry, type Message } from "../../src/raft/types.js";
import { Cluster, bytes } from "./support/cluster.js";

function near(rng: Prng, base: number, spread: number): number {
  return Math.max(0, base + rng.intBelow(2 * spread + 1) - spread);
}

function forge(rng: Prng, c: Cluster, to: number): Message {
  const st = c.status(to);
  const term = near(rng, st.hardState.term, 1) || 1;
  const last = c.member(to).storage.lastIndex();
  const type = (1 + rng.intBelow(13)) as MessageType;
  const index = near(rng, last, 3);
  const logTerm = Math.min(term, near(rng, term, 1));
  const entries: Entry[] = [];
  if (type === MessageType.Append) {
    const n = rng.intBelow(4);
    let t = logTerm;
    for (let i = 0; i < n; i++) {
      t = Math.min(term, t + rng.intBelow(2));
      entries.push({
        term: t,
        index: index + 1 + i,
        type: EntryType.Normal,
        data: bytes(`forged-${rng.intBelow(1000)}`),
      });
    }
  }
  const m: Message = {
    type,
    to,
    from: 3,
    term: type === MessageType.ReadIndex || type === MessageType.TransferLeader ? rng.intBelow(2) * term : term,
    logTerm,
    index: type === MessageType.TransferLeader ? 1 + rng.intBelow(3) : index,
    entries,
    commit: near(rng, last, 3),
    reject: rng.intBelow(2) === 0,
    rejectHint: 0,
    hintTerm: rng.intBelow(3) === 0 ? 0 : near(rng, term, 1),
    context: rng.intBelow(2) === 0 ? new Uint8Array() : bytes(`ctx${rng.intBelow(5)}`),
  };
  m.rejectHint = Math.min(m.index, near(rng, m.index, 3));
  if (type === MessageType.Snapshot) {
    m.snapshot = {
      metadata: {
        index: near(rng, last, 5) || 1,
        term: Math.min(term, near(rng, term, 1)) || 1,
        confState: { voters: [1, 2, 3], learners: [] },
      },
      data: bytes("forged-state"),
    };
  }
  return m;
}

describe("a lying member's forged messages against the Raft core", () => {
  it("never trip an assertion (a node crash) in an honest replica", () => {
    const crashes: string[] = [];
    for (let seed = 1; seed <= 400; seed++) {
      const rng = seededPrng(seed);
      const c = new Cluster(3, { seed, preVote: true, checkQuorum: true });
      try {
        for (let step = 0; step < 1000; step++) {
          const r = rng.intBelow(10);
          if (r < 3) for (const id of [1, 2, 3]) c.tick(id);
          else if (r < 5) {
            const leader = c.leader();
            if (leader !== 0) {
              try {
                c.node(leader).propose(bytes(`p${step}`));
              } catch {
                /* not leader etc. */
              }
            }
          } else if (r < 6) {
            const id = 1 + rng.intBelow(3);
            c.compact(id);
          } else {
            const to = 1 + rng.intBelow(2);
            const m = forge(rng, c, to);
            try {
              c.node(to).step(m);
            } catch (e) {
              if (e instanceof AssertionError) {
                crashes.push(
                  `seed ${seed} step ${step}: ${e.message} <- ${JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString() : v))}`,
                );
                break;
              }
              throw e;
            }
          }
          c.processAll();
          c.deliverRandom(rng, 20, () => true);
          c.processAll();
        }
      } catch (e) {
        // A safety checker's error ends the run: expected of a lying member, not judged here.
        if (e instanceof AssertionError) crashes.push(`seed ${seed} (while processing): ${e.message}`);
      }
    }
    expect(crashes.slice(0, 8)).toEqual([]);
  }, 120_000);
});
