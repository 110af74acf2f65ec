// The simulator's safety checkers are pure functions of a history: fed hand-made histories, they
// must accept a correct one and reject each kind of violation with the right property.

import { describe, expect, it } from "vitest";
import type { LogView } from "../sim/checkers/leader-completeness.js";
import { checkHistory, type SimEvent } from "../sim/checkers/safety-checker.js";
import { hashSeed } from "../sim/hash.js";
import { nextAppHash } from "../sim/payload.js";

function log(terms: number[]): LogView {
  // terms[i] is the term of index i + 1
  return { lastIndex: terms.length, termAt: (i) => terms[i - 1] };
}

/** Two replicas agree on [noop@1, payload 7@1]; 7 is acknowledged; a read after it sees index 2. */
const goodHistory: SimEvent[] = [
  { kind: "hard-state", replica: 1, term: 1, vote: 1 },
  { kind: "hard-state", replica: 2, term: 1, vote: 1 },
  { kind: "leader", replica: 1, term: 1, log: log([1]) },
  { kind: "persist", replica: 1, index: 1, term: 1, prevTerm: 0, payload: 0 },
  { kind: "persist", replica: 2, index: 1, term: 1, prevTerm: 0, payload: 0 },
  { kind: "persist", replica: 1, index: 2, term: 1, prevTerm: 1, payload: 7 },
  { kind: "persist", replica: 2, index: 2, term: 1, prevTerm: 1, payload: 7 },
  { kind: "commit", replica: 1, replicaTerm: 1, index: 2, entryTerm: 1 },
  { kind: "apply", replica: 1, index: 1, term: 1, payload: 0 },
  { kind: "apply", replica: 1, index: 2, term: 1, payload: 7 },
  { kind: "ack", payload: 7, index: 2 },
  { kind: "read-ask", context: 1 },
  { kind: "read-answer", context: 1, index: 2 },
  { kind: "apply", replica: 2, index: 1, term: 1, payload: 0 },
  { kind: "apply", replica: 2, index: 2, term: 1, payload: 7 },
  { kind: "leader", replica: 2, term: 2, log: log([1, 1, 2]) },
  {
    kind: "settled",
    replicas: [
      { replica: 1, applied: 2 },
      { replica: 2, applied: 2 },
    ],
  },
];

function propertyOf(events: SimEvent[]): string | undefined {
  return checkHistory(events)?.property;
}

describe("simulator safety checkers on hand-made histories", () => {
  it("accept a correct history", () => {
    expect(checkHistory(goodHistory)).toBeUndefined();
  });

  it("reject two leaders in one term (election safety)", () => {
    const h: SimEvent[] = [
      { kind: "leader", replica: 1, term: 3, log: log([]) },
      { kind: "leader", replica: 2, term: 3, log: log([]) },
    ];
    expect(propertyOf(h)).toBe("election-safety");
    // The same replica seen leading the same term again is fine.
    expect(propertyOf([h[0]!, h[0]!, { kind: "leader-message", replica: 1, term: 3 }])).toBeUndefined();
    // A replica that sent a leader's message in that term was a leader too.
    expect(propertyOf([h[0]!, { kind: "leader-message", replica: 2, term: 3 }])).toBe("election-safety");
  });

  it("reject a leader without a majority of its voters, or two disjoint quorums in one term (quorum overlap)", () => {
    const elected = (leader: number, voters: number[], granted: number[]): SimEvent => ({
      kind: "elected",
      term: 4,
      quorum: { leader, voters, granted: new Set(granted) },
    });
    expect(propertyOf([elected(1, [1, 2, 3], [1, 2])])).toBeUndefined();
    // Votes of non-voters (a learner, a removed replica) do not count.
    expect(propertyOf([elected(1, [1, 2, 3, 4], [1, 2, 5, 6])])).toBe("quorum-overlap");
    // Configurations two changes apart: {1,2,3} and {3,4,5} (no voter shared by two majorities).
    expect(propertyOf([elected(1, [1, 2, 3], [1, 2]), elected(4, [2, 3, 4, 5, 6], [4, 5, 6])])).toBe("quorum-overlap");
    // Overlapping quorums of one term are reported by election safety, not here.
    expect(propertyOf([elected(1, [1, 2, 3], [1, 2]), elected(3, [1, 2, 3], [2, 3])])).toBeUndefined();
  });

  it("reject a second vote in one term, or a term going back (vote safety)", () => {
    const voted: SimEvent = { kind: "hard-state", replica: 1, term: 4, vote: 2 };
    expect(propertyOf([voted, { kind: "hard-state", replica: 1, term: 4, vote: 3 }])).toBe("vote-safety");
    // A restart that forgot the vote of the current term.
    expect(propertyOf([voted, { kind: "hard-state", replica: 1, term: 4, vote: 0 }])).toBe("vote-safety");
    expect(propertyOf([voted, { kind: "hard-state", replica: 1, term: 3, vote: 0 }])).toBe("vote-safety");
    // Voting in a fresh term, or first voting in a term seen without a vote, is fine.
    expect(
      propertyOf([
        { kind: "hard-state", replica: 1, term: 3, vote: 0 },
        { kind: "hard-state", replica: 1, term: 3, vote: 1 },
        voted,
        { kind: "hard-state", replica: 2, term: 4, vote: 3 },
      ]),
    ).toBeUndefined();
  });

  it("reject one (index, term) holding different payloads or predecessors (log matching)", () => {
    expect(
      propertyOf([
        { kind: "persist", replica: 1, index: 3, term: 2, prevTerm: 1, payload: 9 },
        { kind: "persist", replica: 2, index: 3, term: 2, prevTerm: 1, payload: 10 },
      ]),
    ).toBe("log-matching");
    expect(
      propertyOf([
        { kind: "persist", replica: 1, index: 3, term: 2, prevTerm: 1, payload: 9 },
        { kind: "persist", replica: 2, index: 3, term: 2, prevTerm: 2, payload: 9 },
      ]),
    ).toBe("log-matching");
  });

  it("reject a leader of a later term that lacks a committed entry (leader completeness)", () => {
    const committed: SimEvent = { kind: "commit", replica: 1, replicaTerm: 2, index: 3, entryTerm: 2 };
    expect(propertyOf([committed, { kind: "leader", replica: 2, term: 3, log: log([1, 1]) }])).toBe(
      "leader-completeness",
    );
    expect(propertyOf([committed, { kind: "leader", replica: 2, term: 3, log: log([1, 1, 1]) }])).toBe(
      "leader-completeness",
    );
    // A leader of an earlier term (its votes arrived late) need not hold it.
    expect(propertyOf([committed, { kind: "leader", replica: 2, term: 2, log: log([1, 1]) }])).toBeUndefined();
    // Two replicas reporting different entries committed at one index.
    expect(propertyOf([committed, { kind: "commit", replica: 2, replicaTerm: 3, index: 3, entryTerm: 3 }])).toBe(
      "leader-completeness",
    );
  });

  it("reject divergent applied sequences (state machine safety)", () => {
    expect(
      propertyOf([
        { kind: "apply", replica: 1, index: 1, term: 1, payload: 5 },
        { kind: "apply", replica: 2, index: 1, term: 1, payload: 6 },
      ]),
    ).toBe("state-machine-safety");
    // Same payload, different entry (term).
    expect(
      propertyOf([
        { kind: "apply", replica: 1, index: 1, term: 1, payload: 5 },
        { kind: "apply", replica: 2, index: 1, term: 2, payload: 5 },
      ]),
    ).toBe("state-machine-safety");
  });

  it("reject gaps, double application, restored states that differ from the sequence and snapshots that go back", () => {
    expect(propertyOf([{ kind: "apply", replica: 1, index: 2, term: 1, payload: 5 }])).toBe("state-machine-safety");
    expect(
      propertyOf([
        { kind: "apply", replica: 1, index: 1, term: 1, payload: 5 },
        { kind: "apply", replica: 1, index: 2, term: 1, payload: 5 },
      ]),
    ).toBe("state-machine-safety");
    const applied: SimEvent = { kind: "apply", replica: 1, index: 1, term: 1, payload: 5 };
    const rightHash = nextAppHash(hashSeed, 1, 5);
    for (const from of ["restart", "snapshot"] as const) {
      expect(propertyOf([applied, { kind: "restore", replica: 2, index: 1, hash: rightHash, from }])).toBeUndefined();
      expect(propertyOf([applied, { kind: "restore", replica: 2, index: 1, hash: rightHash ^ 1, from }])).toBe(
        "state-machine-safety",
      );
      expect(propertyOf([applied, { kind: "restore", replica: 2, index: 2, hash: rightHash, from }])).toBe(
        "state-machine-safety",
      );
    }
    // A restart may reload an older state; a snapshot must not take a running replica back.
    expect(
      propertyOf([applied, { kind: "restore", replica: 1, index: 0, hash: hashSeed, from: "restart" }]),
    ).toBeUndefined();
    expect(propertyOf([applied, { kind: "restore", replica: 1, index: 0, hash: hashSeed, from: "snapshot" }])).toBe(
      "state-machine-safety",
    );
  });

  it("reject a ReadIndex answer older than a write acknowledged before the read was asked", () => {
    const h: SimEvent[] = [
      { kind: "apply", replica: 1, index: 1, term: 1, payload: 0 },
      { kind: "apply", replica: 1, index: 2, term: 1, payload: 7 },
      { kind: "ack", payload: 7, index: 2 },
      { kind: "read-ask", context: 1 },
      { kind: "read-answer", context: 1, index: 1 },
    ];
    expect(propertyOf(h)).toBe("read-index-safety");
    // A read asked before the acknowledgement may be answered with the older index.
    expect(propertyOf([h[0]!, h[1]!, h[3]!, h[2]!, h[4]!])).toBeUndefined();
    // An answer nobody asked for.
    expect(propertyOf([{ kind: "read-answer", context: 9, index: 0 }])).toBe("read-index-safety");
  });

  it("reject a lost acknowledged write", () => {
    const acked: SimEvent[] = [
      { kind: "apply", replica: 1, index: 1, term: 1, payload: 7 },
      { kind: "ack", payload: 7, index: 1 },
    ];
    // Replica 2 settled without it.
    expect(
      propertyOf([
        ...acked,
        {
          kind: "settled",
          replicas: [
            { replica: 1, applied: 1 },
            { replica: 2, applied: 0 },
          ],
        },
      ]),
    ).toBe("acked-write-lost");
    // Acknowledged at an index that holds something else.
    expect(
      propertyOf([
        { kind: "apply", replica: 1, index: 1, term: 1, payload: 8 },
        { kind: "ack", payload: 7, index: 1 },
        { kind: "settled", replicas: [{ replica: 1, applied: 1 }] },
      ]),
    ).toBe("acked-write-lost");
    expect(
      propertyOf([
        ...acked,
        {
          kind: "settled",
          replicas: [
            { replica: 1, applied: 1 },
            { replica: 2, applied: 1 },
          ],
        },
      ]),
    ).toBeUndefined();
  });
});
