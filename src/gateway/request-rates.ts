// Request rates for the status page: calls per second over the last few seconds, in total, by
// method and by status code. One bucket per clock second in a ring just long enough for the
// window, so memory does not grow with traffic or uptime. The clock is a parameter: the gateway
// passes a monotonic one (performance.now()), so a wall clock stepped back by NTP cannot move
// calls between seconds; tests pass what they like. Should a call still arrive with an older
// time than one already counted, it is counted in the newest second seen: it happened no earlier
// than that, and resetting a newer bucket for it would erase that second's calls.

import { assert } from "../base/assert.js";

/** Method name under which calls are counted once a bucket already holds methodsMax names. */
export const otherMethod = "other";

interface Counts {
  calls: number;
  errors: number;
}

interface Bucket extends Counts {
  /** The clock second (ms / 1000, floored) this bucket counts; -1 while unused. */
  second: number;
  byMethod: Map<string, Counts>;
  byCode: Map<string, number>;
}

export interface MethodRate {
  method: string;
  calls: number;
  errors: number;
  callsPerSecond: number;
  errorsPerSecond: number;
}

export interface RequestRatesSnapshot {
  /** The span the rates are averaged over (the window, or less while the process is younger). */
  windowSeconds: number;
  calls: number;
  errors: number;
  callsPerSecond: number;
  errorsPerSecond: number;
  /** errors / calls in the window; 0 when there were no calls. */
  errorRatio: number;
  /** Busiest first. */
  byMethod: MethodRate[];
  /** Every status code seen in the window ("OK" included) with its call count, most frequent first. */
  byCode: { code: string; calls: number }[];
}

/** A call is an error unless it succeeded: client mistakes (INVALID_ARGUMENT, NOT_FOUND) count too,
 * since the operator wants to see them; byCode tells the kinds apart. */
function isError(code: string): boolean {
  return code !== "OK";
}

export class RequestRates {
  private readonly ring: Bucket[];
  /** The newest second a call was counted in; never decreases. */
  private latestSecond = -1;

  /**
   * @param windowSeconds whole seconds the rates cover (plus the current, partial second)
   * @param methodsMax distinct method names per bucket before the rest count as "other"
   * @param startedMs when counting began: rates of a young process are averaged over its age
   */
  constructor(
    private readonly windowSeconds: number,
    private readonly methodsMax: number,
    private readonly startedMs: number,
  ) {
    assert(
      Number.isInteger(windowSeconds) && windowSeconds >= 1,
      `RequestRates: windowSeconds must be a positive integer, got ${windowSeconds}`,
    );
    assert(
      Number.isInteger(methodsMax) && methodsMax >= 1,
      `RequestRates: methodsMax must be a positive integer, got ${methodsMax}`,
    );
    this.ring = Array.from({ length: windowSeconds + 1 }, () => ({
      second: -1,
      calls: 0,
      errors: 0,
      byMethod: new Map(),
      byCode: new Map(),
    }));
  }

  observe(method: string, code: string, nowMs: number): void {
    this.latestSecond = Math.max(this.latestSecond, Math.floor(nowMs / 1000));
    const bucket = this.bucketFor(this.latestSecond);
    const error = isError(code) ? 1 : 0;
    bucket.calls += 1;
    bucket.errors += error;
    const name = bucket.byMethod.has(method) || bucket.byMethod.size < this.methodsMax ? method : otherMethod;
    const counts = bucket.byMethod.get(name) ?? { calls: 0, errors: 0 };
    counts.calls += 1;
    counts.errors += error;
    bucket.byMethod.set(name, counts);
    // Codes are a closed set (LedgerError codes and "OK"), so this map stays small.
    bucket.byCode.set(code, (bucket.byCode.get(code) ?? 0) + 1);
  }

  snapshot(nowMs: number): RequestRatesSnapshot {
    const second = Math.floor(nowMs / 1000);
    const inWindow = this.ring.filter((b) => b.second >= second - this.windowSeconds && b.second <= second);
    // The window runs from the start of the oldest bucket to now; a process younger than that
    // has not had the chance to count the whole window. At least one second, so one call
    // just after start-up does not read as a thousand per second.
    const windowMs = this.windowSeconds * 1000 + (nowMs - second * 1000);
    const spanSeconds = Math.max(1, Math.min(windowMs, nowMs - this.startedMs) / 1000);
    let calls = 0;
    let errors = 0;
    const byMethod = new Map<string, Counts>();
    const byCode = new Map<string, number>();
    for (const bucket of inWindow) {
      calls += bucket.calls;
      errors += bucket.errors;
      for (const [method, c] of bucket.byMethod) {
        const sum = byMethod.get(method) ?? { calls: 0, errors: 0 };
        sum.calls += c.calls;
        sum.errors += c.errors;
        byMethod.set(method, sum);
      }
      for (const [code, n] of bucket.byCode) byCode.set(code, (byCode.get(code) ?? 0) + n);
    }
    return {
      windowSeconds: spanSeconds,
      calls,
      errors,
      callsPerSecond: calls / spanSeconds,
      errorsPerSecond: errors / spanSeconds,
      errorRatio: calls === 0 ? 0 : errors / calls,
      byMethod: [...byMethod]
        .map(([method, c]) => ({
          method,
          calls: c.calls,
          errors: c.errors,
          callsPerSecond: c.calls / spanSeconds,
          errorsPerSecond: c.errors / spanSeconds,
        }))
        .sort((a, b) => b.calls - a.calls || a.method.localeCompare(b.method)),
      byCode: [...byCode]
        .map(([code, n]) => ({ code, calls: n }))
        .sort((a, b) => b.calls - a.calls || a.code.localeCompare(b.code)),
    };
  }

  /** The bucket of `second`, emptied first if it last counted an older second. */
  private bucketFor(second: number): Bucket {
    const bucket = this.ring[second % this.ring.length];
    assert(bucket !== undefined, "RequestRates: ring index out of range");
    assert(bucket.second <= second, "RequestRates: a newer second's bucket would be emptied for an older one");
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.calls = 0;
      bucket.errors = 0;
      bucket.byMethod.clear();
      bucket.byCode.clear();
    }
    return bucket;
  }
}
