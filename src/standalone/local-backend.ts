// The standalone server's LedgerBackend: one LevelDB, one ordered writer doing group commit.
// Updates queue up (bounded); the writer takes everything queued (up to a batch limit),
// applies it in order through the store into one chained batch, writes it with one fsync and
// only then answers each caller. LevelDB does not order concurrent writes (STACK.md), so there
// is exactly one writer; reads go to the database directly.

import { mkdir } from "node:fs/promises";
import { ClassicLevel } from "classic-level";
import type { Logger } from "pino";
import { assert, AssertionError } from "../base/assert.js";
import { LedgerError } from "../base/errors.js";
import { standaloneQueueLengthMax } from "./limits.js";
import type { Command, CommandResult, Query, QueryResult } from "../gen/ledger/core/v1/core_pb.js";
import type { CallOptions, LedgerBackend, UpdateItem } from "../ledger/backend.js";
import { commandAccountId } from "../ledger/core.js";
import { standaloneLedgerPrefix } from "../storage/ledger-keys.js";
import { LedgerStore, type LedgerDb } from "../storage/ledger-store.js";
import { localBatchCommandsMax } from "./limits.js";
export { localBatchCommandsMax } from "./limits.js";

interface PendingUpdate {
  readonly command: Command;
  /** The updateMany call this item belongs to (undefined for update): a group commit never
   * splits one, so all its items go in one write. */
  readonly group: object | undefined;
  readonly deadlineMs: number | undefined;
  readonly resolve: (result: CommandResult) => void;
  readonly reject: (error: Error) => void;
}

export interface LocalLedgerBackendOptions {
  dataDir: string;
  logger?: Logger;
}

export class LocalLedgerBackend implements LedgerBackend {
  private readonly queue: PendingUpdate[] = [];
  private writing = false;
  private readonly writerIdle: (() => void)[] = [];
  private readsInFlight = 0;
  private readonly readsIdle: (() => void)[] = [];
  private state: "open" | "closing" | "closed" = "open";
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly db: LedgerDb,
    private readonly store: LedgerStore,
    private readonly logger: Logger | undefined,
  ) {}

  static async open(options: LocalLedgerBackendOptions): Promise<LocalLedgerBackend> {
    await mkdir(options.dataDir, { recursive: true });
    const db: LedgerDb = new ClassicLevel<Uint8Array, Uint8Array>(options.dataDir, {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    await db.open();
    return new LocalLedgerBackend(db, new LedgerStore(db, standaloneLedgerPrefix), options.logger);
  }

  /** Resolves after the command's batch is durably written; the body up to the queue push runs
   * synchronously, so calls made in one turn are applied in call order. */
  async update(accountId: bigint, command: Command, options: CallOptions = {}): Promise<CommandResult> {
    if (this.state !== "open") throw new LedgerError("UNAVAILABLE", "the ledger is closing");
    if (commandAccountId(command) !== accountId) {
      throw new AssertionError(`update routed by account ${accountId} carries a command for another account`);
    }
    if (isExpired(options.deadlineMs, Date.now())) throw deadlineExceeded();
    if (this.queue.length >= standaloneQueueLengthMax) {
      throw new LedgerError(
        "RESOURCE_EXHAUSTED",
        `too many pending updates (standaloneQueueLengthMax = ${standaloneQueueLengthMax}); retry later`,
      );
    }
    return new Promise<CommandResult>((resolve, reject) => {
      this.queue.push({ command, deadlineMs: options.deadlineMs, group: undefined, resolve, reject });
      this.startWriter();
    });
  }

  /** Queues every item at once (in order, one write when they fit localBatchCommandsMax); one
   * outcome per item. A refusal of the whole call (closing, deadline, full queue) is each item's. */
  async updateMany(items: readonly UpdateItem[], options: CallOptions = {}): Promise<(CommandResult | LedgerError)[]> {
    const outcomes = new Array<CommandResult | LedgerError>(items.length);
    if (items.length === 0) return outcomes;
    for (const { accountId, command } of items) {
      if (commandAccountId(command) !== accountId)
        throw new AssertionError(`update routed by account ${accountId} carries a command for another account`);
    }
    const refusal =
      this.state !== "open"
        ? new LedgerError("UNAVAILABLE", "the ledger is closing")
        : isExpired(options.deadlineMs, Date.now())
          ? deadlineExceeded()
          : this.queue.length + items.length > standaloneQueueLengthMax
            ? new LedgerError(
                "RESOURCE_EXHAUSTED",
                `too many pending updates (standaloneQueueLengthMax = ${standaloneQueueLengthMax}); retry later`,
              )
            : undefined;
    if (refusal !== undefined) return outcomes.fill(refusal);
    return new Promise((resolve) => {
      let left = items.length;
      const settle = (position: number, outcome: CommandResult | LedgerError): void => {
        outcomes[position] = outcome;
        if (--left === 0) resolve(outcomes);
      };
      const group = {};
      for (const [position, { command }] of items.entries()) {
        this.queue.push({
          command,
          deadlineMs: options.deadlineMs,
          group,
          resolve: (result) => settle(position, result),
          reject: (error) =>
            settle(position, error instanceof LedgerError ? error : new LedgerError("INTERNAL", error.message)),
        });
      }
      this.startWriter();
    });
  }

  async query(_accountId: bigint, query: Query, _options: CallOptions = {}): Promise<QueryResult> {
    if (this.state !== "open") throw new LedgerError("UNAVAILABLE", "the ledger is closing");
    this.readsInFlight++;
    try {
      return await this.store.query(query);
    } finally {
      this.readsInFlight--;
      if (this.readsInFlight === 0) for (const wake of this.readsIdle.splice(0)) wake();
    }
  }

  /** Stops taking calls, lets queued updates and running reads finish, closes the database. */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.state = "closing";
    if (this.writing) await new Promise<void>((wake) => this.writerIdle.push(wake));
    if (this.readsInFlight > 0) await new Promise<void>((wake) => this.readsIdle.push(wake));
    await this.db.close();
    this.state = "closed";
  }

  private startWriter(): void {
    if (this.writing) return;
    this.writing = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, this.nextCommitLength()));
    } finally {
      // No await between the empty-queue check and here: an update pushed meanwhile is impossible.
      this.writing = false;
      for (const wake of this.writerIdle.splice(0)) wake();
    }
  }

  /** Up to localBatchCommandsMax updates, extended to the end of an updateMany group it cuts. */
  private nextCommitLength(): number {
    let n = Math.min(this.queue.length, localBatchCommandsMax);
    const group = this.queue[n - 1]?.group;
    if (group !== undefined) while (n < this.queue.length && this.queue[n]?.group === group) n++;
    return n;
  }

  /** One group commit. Never throws: every caller is answered. */
  private async commit(taken: PendingUpdate[]): Promise<void> {
    const now = Date.now();
    const live: PendingUpdate[] = [];
    for (const update of taken) {
      // Checked before applying only: once applied, the caller must get the result.
      if (isExpired(update.deadlineMs, now)) update.reject(deadlineExceeded());
      else live.push(update);
    }
    if (live.length === 0) return;

    const batch = this.db.batch();
    let results: CommandResult[];
    try {
      results = await this.store.applyCommands(
        live.map((u) => u.command),
        batch,
      );
    } catch (error) {
      await batch.close().catch(() => undefined);
      if (live.length > 1) {
        // Isolate the command that broke an invariant so the others still commit.
        for (const update of live) await this.commit([update]);
        return;
      }
      this.logger?.error({ err: error }, "applying a command failed; nothing was written");
      for (const u of live) u.reject(new LedgerError("INTERNAL", "the ledger could not apply this command"));
      return;
    }

    try {
      await batch.write({ sync: true });
    } catch (error) {
      this.store.batchDropped();
      this.logger?.error({ err: error, commands: live.length }, "writing a ledger batch failed");
      for (const u of live) u.reject(new LedgerError("UNAVAILABLE", "the ledger could not persist this update"));
      return;
    }
    assert(results.length === live.length, "the store returned one result per command");
    for (const [i, u] of live.entries()) u.resolve(results[i]!);
  }
}

function isExpired(deadlineMs: number | undefined, nowMs: number): boolean {
  return deadlineMs !== undefined && deadlineMs <= nowMs;
}

function deadlineExceeded(): LedgerError {
  return new LedgerError("DEADLINE_EXCEEDED", "the deadline passed before the update was applied");
}
