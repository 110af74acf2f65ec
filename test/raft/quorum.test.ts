// Majority decisions: commit index from acknowledged indexes, vote tallies.

import { describe, expect, it } from "vitest";
import { MajorityConfig } from "../../src/raft/quorum.js";

describe("MajorityConfig.committedIndex", () => {
  const cases: Array<[string, number[], number]> = [
    ["one voter", [7], 7],
    ["three voters", [5, 3, 9], 5],
    ["three voters, one silent", [0, 4, 4], 4],
    ["four voters need three", [10, 8, 6, 2], 6],
    ["five voters need three", [1, 2, 3, 4, 5], 3],
    ["five voters, two silent", [9, 9, 9, 0, 0], 9],
  ];
  for (const [name, acked, want] of cases) {
    it(`${name}: ${acked.join(",")} -> ${want}`, () => {
      const cfg = new MajorityConfig(acked.map((_, i) => i + 1));
      expect(cfg.committedIndex((id) => acked[id - 1] ?? 0)).toBe(want);
    });
  }

  it("an empty config never blocks (room for the joint-config half)", () => {
    expect(new MajorityConfig([]).committedIndex(() => 0)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("MajorityConfig.voteResult", () => {
  const cfg = new MajorityConfig([3, 1, 2]);
  it("sorts and dedupes voters", () => {
    expect(cfg.voters).toEqual([1, 2, 3]);
    expect(new MajorityConfig([2, 2, 1]).voters).toEqual([1, 2]);
  });
  it("is pending while a majority is still possible either way", () => {
    expect(cfg.voteResult(new Map([[1, true]]))).toBe("pending");
    expect(
      cfg.voteResult(
        new Map([
          [1, true],
          [2, false],
        ]),
      ),
    ).toBe("pending");
  });
  it("is won with a majority of grants and lost once a majority is impossible", () => {
    expect(
      cfg.voteResult(
        new Map([
          [1, true],
          [3, true],
        ]),
      ),
    ).toBe("won");
    expect(
      cfg.voteResult(
        new Map([
          [1, false],
          [3, false],
        ]),
      ),
    ).toBe("lost");
  });
  it("ignores votes from non-voters", () => {
    expect(
      cfg.voteResult(
        new Map([
          [1, true],
          [9, true],
        ]),
      ),
    ).toBe("pending");
  });
});
