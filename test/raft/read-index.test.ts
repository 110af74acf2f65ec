// ReadIndex semantics: answered only by a leader that has committed in its term and confirmed
// its leadership with a quorum after the request; never by a deposed leader.

import { describe, expect, it } from "vitest";
import { MessageType } from "../../src/raft/types.js";
import type { Message } from "../../src/raft/types.js";
import { Cluster, bytes, text } from "./support/cluster.js";

const reads = (c: Cluster, id: number) => c.member(id).readStates.map((rs) => `${rs.index}:${text(rs.context)}`);

describe("ReadIndex", () => {
  it("a leader cut off from the majority never answers, even after the others moved on", () => {
    const c = new Cluster(3, { seed: 21 });
    c.node(1).campaign();
    c.stabilize();
    const isolated = (m: Message) => m.from !== 1 && m.to !== 1;
    c.node(2).campaign();
    c.stabilize(isolated);
    expect(c.leader() === 2 || c.status(2).softState.role === "leader").toBe(true);
    c.node(2).propose(bytes("after"));
    c.stabilize(isolated);
    // 1 still believes it leads term 1.
    expect(c.status(1).softState.role).toBe("leader");
    c.node(1).readIndex(bytes("stale"));
    for (let i = 0; i < 30; i++) {
      c.tick(1);
      c.stabilize(isolated);
    }
    expect(reads(c, 1)).toEqual([]);
    // Healed: 1 learns of term 2 and steps down; the read is dropped, never answered.
    c.tick(2);
    c.stabilize();
    expect(c.status(1).softState.role).toBe("follower");
    c.stabilize();
    expect(reads(c, 1)).toEqual([]);
  });

  it("a new leader answers only after committing an entry of its term, at an index covering all earlier commits", () => {
    const c = new Cluster(3, { seed: 22 });
    c.node(1).campaign();
    c.stabilize();
    c.node(1).propose(bytes("x"));
    c.stabilize();
    c.node(2).campaign();
    c.stabilize((m) => m.type === MessageType.Vote || m.type === MessageType.VoteResponse);
    expect(c.status(2).softState.role).toBe("leader");
    expect(c.status(2).hardState.commit).toBe(2);
    c.node(2).readIndex(bytes("r"));
    c.processAll();
    expect(reads(c, 2)).toEqual([]); // queued, not answered, not dropped
    c.tick(2);
    c.stabilize();
    expect(reads(c, 2)).toEqual(["3:r"]);
  });

  it("a duplicate context still pending is ignored: one request, one answer", () => {
    const c = new Cluster(3, { seed: 23 });
    c.node(1).campaign();
    c.stabilize();
    c.node(1).readIndex(bytes("d"));
    c.node(1).readIndex(bytes("d"));
    c.stabilize();
    expect(reads(c, 1)).toEqual(["1:d"]);
    expect(c.member(1).logs.some((l) => l.includes("context already pending"))).toBe(true);
  });

  it("a follower's read is forwarded to the leader and answered to the follower", () => {
    const c = new Cluster(3, { seed: 24 });
    c.node(1).campaign();
    c.stabilize();
    c.node(1).propose(bytes("v"));
    c.stabilize();
    c.node(3).readIndex(bytes("f"));
    c.stabilize();
    expect(reads(c, 3)).toEqual(["2:f"]);
    expect(reads(c, 1)).toEqual([]);
  });

  it("a single-voter group answers at once after its first commit", () => {
    const c = new Cluster(1, { seed: 25 });
    c.node(1).campaign();
    c.node(1).readIndex(bytes("s"));
    c.processAll();
    expect(reads(c, 1)).toEqual(["1:s"]);
  });
});
