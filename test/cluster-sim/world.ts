// The simulated world's time: one virtual clock and one queue of timed events for every node,
// the gateway and the clients of a run. Events run one at a time in (time, order of scheduling)
// order; after each, the promise jobs it started run to completion (a real setImmediate turn,
// with no real I/O or timer anywhere in the process) before the next event. Nothing reads the
// real clock, so a seed replays exactly.
//
// Each node incarnation has an owner token: crashing a node cancels every timer it set, so a
// dead process never acts again.

import type { Clock } from "../../src/base/clock.js";
import { seededPrng, type Prng } from "../../src/base/prng.js";

interface SimEvent {
  at: number;
  seq: number;
  fn: () => void;
  owner: Owner;
  cancelled: boolean;
}

/** Whose timers an event belongs to; a dead owner's events are skipped. */
export interface Owner {
  readonly name: string;
  alive: boolean;
}

/** A binary min-heap on (at, seq). */
class EventQueue {
  private readonly heap: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(e: SimEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

const realTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Virtual time starts here (a plausible Unix time in ms), so command timestamps look real. */
export const simEpochMs = 1_800_000_000_000;

export class SimWorld {
  readonly random: Prng;
  private nowMs = simEpochMs;
  private seq = 0;
  private readonly queue = new EventQueue();
  /** Events run so far (a measure of a run's work). */
  eventsRun = 0;
  readonly world: Owner = { name: "world", alive: true };
  readonly nowAtStart = simEpochMs;

  constructor(seed: number) {
    this.random = seededPrng(seed);
  }

  get now(): number {
    return this.nowMs;
  }

  /** Runs `fn` at now + delayMs unless cancelled. */
  at(delayMs: number, fn: () => void, owner: Owner = this.world): () => void {
    const e: SimEvent = { at: this.nowMs + Math.max(0, delayMs), seq: this.seq++, fn, owner, cancelled: false };
    this.queue.push(e);
    return () => {
      e.cancelled = true;
    };
  }

  sleep(ms: number, owner: Owner = this.world): Promise<void> {
    return new Promise((resolve) => this.at(ms, resolve, owner));
  }

  /** The Clock an owner's code sees: virtual time, its timers dying with the owner. */
  clockFor(owner: Owner): Clock {
    return {
      nowMs: () => Math.floor(this.nowMs),
      monotonicMs: () => this.nowMs - simEpochMs,
      every: (intervalMs, fn) => {
        let cancel = (): void => undefined;
        let stopped = false;
        const arm = (): void => {
          cancel = this.at(
            intervalMs,
            () => {
              if (stopped) return;
              arm();
              fn();
            },
            owner,
          );
        };
        arm();
        return () => {
          stopped = true;
          cancel();
        };
      },
      after: (delayMs, fn) => this.at(delayMs, fn, owner),
      soon: (fn) => void this.at(0, fn, owner),
      randomInt: (min, max) => min + this.random.intBelow(max - min),
    };
  }

  /**
   * Runs events until `done()` holds (checked after each event) or virtual time passes
   * `untilMs`. Returns whether `done()` held. With nothing left to run, time jumps to untilMs.
   */
  async runUntil(untilMs: number, done: () => boolean = () => false): Promise<boolean> {
    await realTurn();
    for (;;) {
      if (done()) return true;
      const next = this.queue.peek();
      if (next === undefined || next.at > untilMs) {
        this.nowMs = Math.max(this.nowMs, untilMs);
        return done();
      }
      this.queue.pop();
      if (next.cancelled || !next.owner.alive) continue;
      this.nowMs = next.at;
      this.eventsRun++;
      next.fn();
      await realTurn();
    }
  }

  /** Runs until the promise settles or virtual time passes untilMs; returns its value or undefined. */
  async runFor<T>(promise: Promise<T>, untilMs: number): Promise<{ value: T } | undefined> {
    let settled: { value: T } | undefined;
    let failed: { error: unknown } | undefined;
    promise.then(
      (value) => {
        settled = { value };
      },
      (error: unknown) => {
        failed = { error };
      },
    );
    await this.runUntil(untilMs, () => settled !== undefined || failed !== undefined);
    if (failed !== undefined) throw failed.error;
    return settled;
  }
}
