// ProposalWaiters: every waiter is settled exactly once, by take, expiry or a shard failure.

import { describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { ProposalWaiters, outcomeUnknown, type ProposalWaiter } from "../../src/node/waiters.js";

interface Recorded {
  waiter: ProposalWaiter;
  resolved: number;
  rejected: LedgerError[];
}

function waiter(shardId: string, deadlineMs: number): Recorded {
  const rec: Recorded = {
    resolved: 0,
    rejected: [],
    waiter: {
      shardId,
      deadlineMs,
      resolve: () => void rec.resolved++,
      reject: (e) => void rec.rejected.push(e),
    },
  };
  return rec;
}

describe("ProposalWaiters", () => {
  it("expire rejects exactly the overdue waiters with DEADLINE_EXCEEDED saying the outcome is unknown", () => {
    const w = new ProposalWaiters();
    const overdue = waiter("shard-0", 1_000);
    const due = waiter("shard-1", 1_500);
    const later = waiter("shard-0", 2_000);
    w.add(1, overdue.waiter);
    w.add(2, due.waiter);
    w.add(3, later.waiter);
    w.expire(1_500);
    for (const r of [overdue, due]) {
      expect(r.rejected).toHaveLength(1);
      const e = r.rejected[0];
      expect(e).toBeInstanceOf(LedgerError);
      expect(e?.code).toBe("DEADLINE_EXCEEDED");
      expect(e?.message).toMatch(/outcome is unknown/);
      expect(e?.message).toMatch(/same request_id is safe/);
      expect(e?.message).toContain(r.waiter.shardId);
    }
    expect(later.rejected).toHaveLength(0);
    expect(w.size).toBe(1);
    expect(w.take(1)).toBeUndefined();
    expect(w.take(3)).toBe(later.waiter);
  });

  it("failShard rejects only that shard's waiters, as UNAVAILABLE with an outcome-unknown message", () => {
    const w = new ProposalWaiters();
    const a1 = waiter("shard-a", 10_000);
    const a2 = waiter("shard-a", 10_000);
    const b = waiter("shard-b", 10_000);
    w.add(1, a1.waiter);
    w.add(2, b.waiter);
    w.add(3, a2.waiter);
    w.failShard("shard-a", "node n1 stopped leading");
    for (const r of [a1, a2]) {
      expect(r.rejected).toHaveLength(1);
      expect(r.rejected[0]?.code).toBe("UNAVAILABLE");
      expect(r.rejected[0]?.message).toContain("shard-a: node n1 stopped leading");
      expect(r.rejected[0]?.message).toMatch(/outcome is unknown/);
    }
    expect(b.rejected).toHaveLength(0);
    expect(w.size).toBe(1);
    expect(w.take(2)).toBe(b.waiter);
    expect(w.take(1)).toBeUndefined();
    expect(w.take(3)).toBeUndefined();
  });

  it("take returns a waiter once, then undefined; a taken waiter is not expired or failed later", () => {
    const w = new ProposalWaiters();
    const r = waiter("shard-0", 100);
    w.add(7, r.waiter);
    expect(w.take(7)).toBe(r.waiter);
    expect(w.take(7)).toBeUndefined();
    expect(w.size).toBe(0);
    w.expire(1_000_000);
    w.failShard("shard-0", "x");
    w.failAll(new LedgerError("UNAVAILABLE", "down"));
    expect(r.rejected).toHaveLength(0);
  });

  it("failAll rejects every waiter once with the given error and empties the set", () => {
    const w = new ProposalWaiters();
    const rs = [waiter("s0", 1), waiter("s1", 2)];
    for (const [i, r] of rs.entries()) w.add(i, r.waiter);
    const down = new LedgerError("UNAVAILABLE", "shutting down");
    w.failAll(down);
    w.failAll(down);
    for (const r of rs) expect(r.rejected).toEqual([down]);
    expect(w.size).toBe(0);
  });

  it("outcomeUnknown names the shard and the reason", () => {
    const e = outcomeUnknown("shard-9", "leader lost");
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toBe(
      "shard-9: leader lost; the outcome is unknown: the command may still be applied. Retrying with the same request_id is safe",
    );
  });
});
