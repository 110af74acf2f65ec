// Flow control: the inflights ring (count and byte caps) and the probe/replicate/snapshot
// progress state machine.

import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { Inflights } from "../../src/raft/inflights.js";
import { Progress } from "../../src/raft/progress.js";

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
