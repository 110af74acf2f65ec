// The one ordered writer of a node's database. classic-level runs writes on a thread pool with
// no defined order between concurrent calls, and the node relies on order (a clear of stale
// keys must land after the batch that made them stale; a later batch must win over an earlier
// one), so every write goes through this queue and starts only after the previous one ended.
//
// A failed write or sync leaves the disk in an unknown state (LevelDB keeps a background error;
// after a failed fsync the page cache may hold data that never reaches the disk), so the first
// failure is final: `onFailure` is told (the node stops), and every job queued or submitted
// after it is refused without touching the database.

import type { AbstractChainedBatch } from "abstract-level";
import type { KeyRange } from "./ledger-keys.js";
import type { LedgerDb } from "./ledger-store.js";

export type DbBatch = AbstractChainedBatch<LedgerDb, Uint8Array, Uint8Array>;

export class DbWriter {
  /** Settles when every job submitted so far has ended; never rejects. */
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private failure: unknown;

  constructor(
    private readonly db: LedgerDb,
    private readonly onFailure: (e: unknown) => void = () => undefined,
  ) {}

  /** Whether a write failed: nothing more is written. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Writes `batch` after every earlier job; rejects only with this write's own failure. */
  write(batch: DbBatch, options: { sync: boolean }): Promise<void> {
    // Frees the native batch of a write refused below.
    if (this.closed || this.failure !== undefined) batch.close().catch(() => undefined);
    return this.enqueue(() => batch.write(options));
  }

  /** Deletes every key in `range` after every earlier job. */
  clear(range: KeyRange): Promise<void> {
    return this.enqueue(() => this.db.clear(range));
  }

  /** Jobs submitted and not yet ended (for backpressure and metrics). */
  queuedJobs(): number {
    return this.queued;
  }

  /** Resolves once no job is queued or running, including jobs submitted while waiting. */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }

  /** Waits for the queued jobs; from now on write and clear reject. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new Error("DbWriter is closed: write refused"));
    if (this.failure !== undefined) return Promise.reject(this.refusal());
    this.queued++;
    const run = this.tail
      .then(() => {
        if (this.failure !== undefined) throw this.refusal();
        return job().catch((e: unknown) => {
          if (this.failure === undefined) {
            this.failure = e ?? new Error("a write failed");
            this.onFailure(e);
          }
          throw e;
        });
      })
      .finally(() => this.queued--);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private refusal(): Error {
    return new Error(`a database write failed earlier (${String(this.failure)}); nothing more is written`);
  }
}
