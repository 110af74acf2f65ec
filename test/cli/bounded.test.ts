// runBounded: the concurrency bound of seed-accounts, and what happens after a failure.

import { describe, expect, it } from "vitest";
import { runBounded } from "../../tools/dev/bounded.js";

/** A task whose completion the test controls. */
function gate() {
  let open!: () => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe("runBounded", () => {
  it("runs every task once with at most `concurrency` in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const ran: number[] = [];
    await runBounded(50, 4, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await Promise.resolve();
      ran.push(i);
      inFlight--;
    });
    expect(ran.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(peak).toBe(4);
  });

  it("after a failure starts nothing new, waits for the tasks in flight, then throws the first error", async () => {
    const gates = Array.from({ length: 10 }, gate);
    const started: number[] = [];
    const finished: number[] = [];
    const run = runBounded(10, 3, async (i) => {
      started.push(i);
      await gates[i]!.promise;
      finished.push(i);
    });
    await expect.poll(() => started).toEqual([0, 1, 2]);
    gates[1]!.fail(new Error("task 1 failed"));
    gates[0]!.fail(new Error("task 0 failed later"));
    let settled = false;
    void run.catch(() => {}).finally(() => (settled = true));
    await new Promise(setImmediate); // let every queued promise reaction run
    expect(settled).toBe(false); // task 2 is still in flight
    gates[2]!.open();
    await expect(run).rejects.toThrow("task 1 failed");
    expect(started).toEqual([0, 1, 2]);
    expect(finished).toEqual([2]);
  });

  it("does nothing for zero tasks", async () => {
    await expect(runBounded(0, 5, async () => expect.unreachable())).resolves.toBeUndefined();
  });
});
