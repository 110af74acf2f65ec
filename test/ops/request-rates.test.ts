// The status page's request-rate window: per-second buckets over a fixed window, a fed clock.

import { describe, expect, it } from "vitest";
import { RequestRates, otherMethod } from "../../src/gateway/request-rates.js";

/** Counts `n` calls of `method` with status `code` at `atMs`. */
function feed(rates: RequestRates, n: number, method: string, code: string, atMs: number): void {
  for (let i = 0; i < n; i++) rates.observe(method, code, atMs);
}

describe("RequestRates", () => {
  it("averages calls and errors over the window, in total, by method and by code", () => {
    const rates = new RequestRates(5, 32, 0);
    feed(rates, 10, "CreateAccount", "OK", 100_000);
    feed(rates, 3, "GetAccount", "OK", 101_500);
    feed(rates, 2, "GetAccount", "NOT_FOUND", 101_600);
    // At 102.000 s the window covers seconds 97..102: exactly 5 s.
    const snapshot = rates.snapshot(102_000);
    expect(snapshot).toMatchObject({ windowSeconds: 5, calls: 15, errors: 2, callsPerSecond: 3, errorsPerSecond: 0.4 });
    expect(snapshot.errorRatio).toBeCloseTo(2 / 15);
    expect(snapshot.byMethod).toEqual([
      { method: "CreateAccount", calls: 10, errors: 0, callsPerSecond: 2, errorsPerSecond: 0 },
      { method: "GetAccount", calls: 5, errors: 2, callsPerSecond: 1, errorsPerSecond: 0.4 },
    ]);
    expect(snapshot.byCode).toEqual([
      { code: "OK", calls: 13 },
      { code: "NOT_FOUND", calls: 2 },
    ]);
  });

  it("drops seconds that have left the window and reads zero, not NaN, once all have", () => {
    const rates = new RequestRates(5, 32, 0);
    feed(rates, 10, "CreateAccount", "OK", 100_000);
    feed(rates, 5, "GetAccount", "OK", 101_500);
    expect(rates.snapshot(106_000)).toMatchObject({ calls: 5, byMethod: [{ method: "GetAccount", calls: 5 }] });
    expect(rates.snapshot(107_000)).toMatchObject({
      calls: 0,
      errors: 0,
      callsPerSecond: 0,
      errorsPerSecond: 0,
      errorRatio: 0,
      byMethod: [],
      byCode: [],
    });
  });

  it("empties a reused bucket before counting a new second in it", () => {
    const rates = new RequestRates(5, 32, 0);
    feed(rates, 7, "CreateAccount", "OK", 100_000);
    // The ring has 6 buckets: second 106 lands in second 100's bucket.
    feed(rates, 1, "GetAccount", "UNAVAILABLE", 106_200);
    expect(rates.snapshot(106_500)).toMatchObject({
      calls: 1,
      errors: 1,
      byMethod: [{ method: "GetAccount", calls: 1 }],
      byCode: [{ code: "UNAVAILABLE", calls: 1 }],
    });
  });

  it("averages over the process's age while it is younger than the window, and over at least one second", () => {
    const rates = new RequestRates(5, 32, 50_000);
    feed(rates, 2, "CreateAccount", "OK", 50_200);
    expect(rates.snapshot(50_500)).toMatchObject({ windowSeconds: 1, callsPerSecond: 2 });
    expect(rates.snapshot(52_000)).toMatchObject({ windowSeconds: 2, callsPerSecond: 1 });
    expect(rates.snapshot(60_000)).toMatchObject({ windowSeconds: 5, calls: 0 });
  });

  it("counts methods beyond methodsMax in one second under 'other'", () => {
    const rates = new RequestRates(5, 2, 0);
    for (const method of ["A", "B", "C", "D", "A"]) rates.observe(method, "OK", 10_000);
    const { byMethod, calls } = rates.snapshot(10_500);
    expect(calls).toBe(5);
    expect(byMethod.map((m) => [m.method, m.calls])).toEqual([
      ["A", 2],
      [otherMethod, 2],
      ["B", 1],
    ]);
  });

  it("keeps the current second's calls when a call is observed with a wall clock that stepped back", () => {
    const rates = new RequestRates(5, 32, 0);
    for (let i = 0; i < 10; i++) rates.observe("CreateAccount", "OK", 100_500);
    // An NTP step of about six seconds back: second 94 shares second 100's slot in the 6-slot ring.
    rates.observe("GetAccount", "OK", 94_900);
    const calls = rates.snapshot(100_600).byMethod.find((m) => m.method === "CreateAccount")?.calls ?? 0;
    expect(calls).toBe(10);
  });
});
