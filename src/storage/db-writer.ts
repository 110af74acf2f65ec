// The one ordered writer of a node's database. classic-level runs writes on a thread pool with
// no defined order between concurrent calls, and the node relies on order (a clear of stale
// keys must land after the batch that made them stale; a later batch must win over an earlier
// one), so every write goes through this queue and starts only after the previous one ended.

import type { AbstractChainedBatch } from "abstract-level";
import type { KeyRange } from "./ledger-keys.js";
import type { LedgerDb } from "./ledger-store.js";

export type DbBatch = AbstractChainedBatch<LedgerDb, Uint8Array, Uint8Array>;

export class DbWriter {
  /** Settles when every job submitted so far has ended; never rejects. */
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;

  constructor(private readonly db: LedgerDb) {}

  /** Writes `batch` after every earlier job; rejects only with this write's own failure. */
  write(batch: DbBatch, options: { sync: boolean }): Promise<void> {
    if (this.closed) batch.close().catch(() => undefined); // frees the native batch; the write is refused below
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
    this.queued++;
    const run = this.tail.then(job).finally(() => this.queued--);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
