// Time and chance behind one narrow seam, used by the node and by the gateway's routing:
// production uses the system's clock, timers and CSPRNG; the whole-cluster simulator passes a
// virtual clock and a seeded generator, so the real code runs deterministically from a seed.

import { randomInt } from "node:crypto";

export interface Clock {
  /** Wall-clock milliseconds since the epoch (deadlines, command timestamps). */
  nowMs(): number;
  /** Milliseconds on a monotonic clock, for measuring durations (metrics only). */
  monotonicMs(): number;
  /** Runs `fn` every `intervalMs` until the returned function is called. */
  every(intervalMs: number, fn: () => void): () => void;
  /** Runs `fn` once after `delayMs` unless the returned function is called first. */
  after(delayMs: number, fn: () => void): () => void;
  /** Runs `fn` once, after the work now under way (the next turn of the event loop). */
  soon(fn: () => void): void;
  /** A uniformly chosen integer in [min, max). */
  randomInt(min: number, max: number): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  every: (intervalMs, fn) => {
    const timer = setInterval(fn, intervalMs);
    return () => clearInterval(timer);
  },
  after: (delayMs, fn) => {
    const timer = setTimeout(fn, delayMs);
    timer.unref(); // a pending guard never keeps a process alive
    return () => clearTimeout(timer);
  },
  soon: (fn) => void setImmediate(fn),
  randomInt: (min, max) => randomInt(min, max),
};
