// The membership-change rules as pure functions: the 10-byte encoding round-trips and refuses
// anything else, and each change either fits the membership (and moves it) or is refused with
// its reason and leaves it as it was.

import { describe, expect, it } from "vitest";
import {
  ConfChangeType,
  applyConfChangeTo,
  confChangeRefusal,
  decodeConfChange,
  encodeConfChange,
} from "../../src/raft/conf-change.js";
import type { ConfChange } from "../../src/raft/conf-change.js";
import { seededPrng } from "../../src/base/prng.js";
import type { ConfState } from "../../src/raft/types.js";

describe("conf change encoding", () => {
  it("round-trips every type and ids up to 2^53 - 1", () => {
    for (const type of [ConfChangeType.AddVoter, ConfChangeType.AddLearner, ConfChangeType.Remove]) {
      for (const replicaId of [1, 255, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
        expect(decodeConfChange(encodeConfChange({ type, replicaId }))).toEqual({ type, replicaId });
      }
    }
  });

  it("refuses a wrong length, version, type or id, naming what is wrong", () => {
    const good = encodeConfChange({ type: ConfChangeType.Remove, replicaId: 7 });
    expect(decodeConfChange(good.subarray(0, 9))).toMatch(/10 bytes, not 9/);
    expect(decodeConfChange(Uint8Array.of(...good, 0))).toMatch(/10 bytes, not 11/);
    expect(decodeConfChange(Uint8Array.of(2, ...good.subarray(1)))).toMatch(/version 2/);
    expect(decodeConfChange(Uint8Array.of(1, 4, ...good.subarray(2)))).toMatch(/type 4/);
    expect(decodeConfChange(Uint8Array.of(1, 3, 0, 0, 0, 0, 0, 0, 0, 0))).toMatch(/replica id 0/);
    expect(decodeConfChange(Uint8Array.of(1, 3, 0, 0x20, 0, 0, 0, 0, 0, 0))).toMatch(/out of range/);
  });

  it("never throws on random bytes", () => {
    const random = seededPrng(5);
    for (let i = 0; i < 2_000; i++) {
      const bytes = Uint8Array.from({ length: random.intBelow(14) }, () => random.intBelow(256));
      if (i % 2 === 0 && bytes.length >= 2) {
        bytes[0] = 1;
        bytes[1] = 1 + random.intBelow(3);
      }
      const cc = decodeConfChange(bytes);
      if (typeof cc !== "string") expect(encodeConfChange(cc)).toEqual(bytes);
    }
  });
});

const cs = (voters: number[], learners: number[] = []): ConfState => ({ voters, learners });
const add = (id: number): ConfChange => ({ type: ConfChangeType.AddVoter, replicaId: id });
const learn = (id: number): ConfChange => ({ type: ConfChangeType.AddLearner, replicaId: id });
const remove = (id: number): ConfChange => ({ type: ConfChangeType.Remove, replicaId: id });

describe("applying a change to a membership", () => {
  const table: [string, ConfState, ConfChange, ConfState | RegExp][] = [
    ["a new voter", cs([1, 2, 3]), add(4), cs([1, 2, 3, 4])],
    ["a learner promoted", cs([1, 2, 3], [4]), add(4), cs([1, 2, 3, 4])],
    ["a voter added twice", cs([1, 2, 3]), add(2), /2 is already a voter/],
    ["a new learner", cs([1, 2, 3]), learn(5), cs([1, 2, 3], [5])],
    ["a voter demoted", cs([1, 2, 3]), learn(2), cs([1, 3], [2])],
    ["the only voter demoted", cs([1], [2]), learn(1), /1 is the only voter/],
    ["a learner added twice", cs([1], [2]), learn(2), /2 is already a learner/],
    ["a voter removed", cs([1, 2, 3]), remove(1), cs([2, 3])],
    ["a learner removed", cs([1, 2, 3], [4]), remove(4), cs([1, 2, 3])],
    ["a stranger removed", cs([1, 2, 3]), remove(9), /9 is not a member/],
    ["the only voter removed", cs([1], [2]), remove(1), /1 is the only voter/],
  ];
  for (const [name, before, cc, after] of table) {
    it(name, () => {
      const why = confChangeRefusal(before, cc);
      const next = applyConfChangeTo(before, cc);
      if (after instanceof RegExp) {
        expect(why).toMatch(after);
        expect(next).toEqual(before);
      } else {
        expect(why).toBeUndefined();
        expect(next).toEqual(after);
      }
    });
  }

  it("keeps both lists sorted and never puts an id in both", () => {
    const next = applyConfChangeTo(cs([5, 3], [9, 7]), add(7));
    expect(next).toEqual(cs([3, 5, 7], [9]));
  });
});
