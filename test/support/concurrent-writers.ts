// Clients writing +1 settled transactions through the gateway in a loop, round-robin over some
// accounts, recording every acknowledgement and failure: the load under which cluster tests kill,
// stop or restart processes.

import type { LedgerClient, LedgerError, Transaction } from "../../src/client/index.js";

export interface WriterAck {
  transaction: Transaction;
  accountId: string;
  /** The account's shard when the caller said (for filters), else "". */
  shardId: string;
  atMs: number;
}

export interface WriterOptions {
  /** Request ids are `${prefix}w<writer>-<n>`: unique per write, so a retry is a new write. */
  requestIdPrefix: string;
  /** Each call's deadline. */
  timeoutMs: number;
  /** Pause after a failed call, so a fast-failing gateway is not hammered. */
  retryPauseMs: number;
}

export class ConcurrentWriters {
  readonly acks: WriterAck[] = [];
  readonly failures: { code: string; message: string; atMs: number }[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[];
  private readonly waiters = new Set<() => void>();

  constructor(
    clients: LedgerClient[],
    private readonly accounts: { id: string; shardId?: string }[],
    private readonly options: WriterOptions,
  ) {
    this.loops = clients.map((client, w) => this.run(client, w));
  }

  private async run(client: LedgerClient, writer: number): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      const account = this.accounts[(writer + n) % this.accounts.length]!;
      try {
        const requestId = `${this.options.requestIdPrefix}w${writer}-${n}`;
        const transaction = await client.createTransaction(
          { accountId: account.id, amount: 1n, settled: true, requestId },
          { timeoutMs: this.options.timeoutMs },
        );
        this.acks.push({ transaction, accountId: account.id, shardId: account.shardId ?? "", atMs: Date.now() });
        for (const wake of this.waiters) wake();
      } catch (e) {
        const error = e as LedgerError;
        this.failures.push({ code: error.code, message: error.message, atMs: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, this.options.retryPauseMs));
      }
    }
  }

  /** Resolves once `count` acknowledgements match `filter`; rejects after `timeoutMs`. */
  waitForAcks(filter: (a: WriterAck) => boolean, count: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.acks.filter(filter).length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const recent = this.failures
          .slice(-5)
          .map((f) => `${f.code}: ${f.message}`)
          .join("\n");
        reject(
          new Error(
            `fewer than ${count} matching acknowledgements within ${timeoutMs} ms (${this.acks.filter(filter).length}); recent failures:\n${recent}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}
