// The node's loop: at most one turn runs at a time, a turn is scheduled (once) whenever there
// is work, and a turn that fails stops the loop for good (memory may then be ahead of the DB, so
// nothing may run again; the owner is told once, and restarting replays the log). What a turn
// does is the host's (node-host.ts); this file only orders the turns.

import type { Clock } from "../base/clock.js";
import type { Logger } from "../base/logger.js";

export interface NodeLoopOptions {
  clock: Clock;
  logger: Logger;
  /** One turn's work. */
  turn: () => Promise<void>;
  /** Whether another turn is needed now (checked after each turn). */
  hasWork: () => boolean;
}

export class NodeLoop {
  private running = false;
  private scheduled = false;
  private atQuiescence: (() => void)[] = [];
  private stopped = false;
  private failure = false;
  private fatal: ((e: unknown) => void) | undefined;

  constructor(private readonly o: NodeLoopOptions) {}

  /** Whether a turn or a write failed: the loop runs no more turns. */
  get failed(): boolean {
    return this.failure;
  }

  /** Who hears of a fatal failure (once). */
  onFatal(fn: (e: unknown) => void): void {
    this.fatal = fn;
  }

  /** Runs a turn soon, unless one is scheduled already; a running turn reschedules itself. */
  schedule(): void {
    if (this.scheduled || this.stopped || this.failure) return;
    this.scheduled = true;
    this.o.clock.soon(() => {
      this.scheduled = false;
      if (this.running) return; // the running turn reschedules itself when it ends
      this.running = true;
      this.o.turn().then(
        () => this.endTurn(),
        (e: unknown) => {
          this.running = false;
          this.fail(e, "node loop failed; the node stops (restart replays the log)");
        },
      );
    });
  }

  /** Runs `fn` when no turn is running (at once if none is). */
  whenQuiescent(fn: () => void): void {
    if (this.running) this.atQuiescence.push(fn);
    else fn();
  }

  /** Stops the loop for good after a failure it cannot survive; the owner is told once. */
  fail(e: unknown, why: string): void {
    if (this.failure) return;
    this.failure = true;
    this.o.logger.fatal({ err: e instanceof Error ? e.stack : String(e) }, why);
    this.fatal?.(e);
  }

  /** No more turns are scheduled; resolves once the running or scheduled one has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running || this.scheduled) await new Promise<void>((r) => this.o.clock.soon(r));
  }

  private endTurn(): void {
    this.running = false;
    const fns = this.atQuiescence;
    this.atQuiescence = [];
    for (const fn of fns) fn();
    if (this.o.hasWork()) this.schedule();
  }
}
