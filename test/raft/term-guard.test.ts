// The term bounds of src/raft/term-guard.ts: a term above maxTerm is refused; a jump beyond the
// credit is refused; credit spent comes back at one term per election timeout up to maxJump,
// and past it only while peers keep showing terms beyond the credit.

import { describe, expect, it } from "vitest";
import { TermGuard } from "../../src/raft/term-guard.js";

const electionTicks = 10;

function ticks(g: TermGuard, n: number): void {
  for (let i = 0; i < n; i++) g.tick();
}

describe("TermGuard", () => {
  it("refuses a term above maxTerm whatever the credit", () => {
    const g = new TermGuard(100, 1_000, electionTicks);
    expect(g.check(99, 101)).toBe("termAboveMax");
    expect(g.check(5, 100)).toBeUndefined();
  });

  it("refuses a jump beyond the credit, never a lower or equal term", () => {
    const g = new TermGuard(2 ** 48, 10, electionTicks);
    expect(g.check(5, 15)).toBeUndefined();
    expect(g.check(5, 16)).toBe("termJump");
    expect(g.check(5, 5)).toBeUndefined();
    expect(g.check(5, 1)).toBeUndefined();
    expect(g.check(5, 0)).toBeUndefined();
  });

  it("credit spent comes back at one term per election timeout, up to maxJump", () => {
    const g = new TermGuard(2 ** 48, 10, electionTicks);
    g.spend(10);
    expect(g.check(5, 6)).toBe("termJump");
    ticks(g, electionTicks - 1);
    expect(g.creditNow()).toBe(0);
    ticks(g, 1);
    expect(g.creditNow()).toBe(1);
    ticks(g, 100 * electionTicks);
    expect(g.creditNow()).toBe(10);
  });

  it("grows past maxJump only in election timeouts in which a jump was refused: a replica far behind rejoins", () => {
    const g = new TermGuard(2 ** 48, 10, electionTicks);
    const ours = 1;
    const cluster = 26; // 25 ahead, 15 more than maxJump
    let windows = 0;
    while (g.check(ours, cluster) !== undefined) {
      ticks(g, electionTicks);
      windows++;
      expect(windows).toBeLessThan(100);
    }
    expect(windows).toBe(15);
    // Without refusals it stays where it is, and spending brings it back down.
    ticks(g, 10 * electionTicks);
    expect(g.creditNow()).toBe(25);
    g.spend(25);
    ticks(g, 100 * electionTicks);
    expect(g.creditNow()).toBe(10);
  });
});
