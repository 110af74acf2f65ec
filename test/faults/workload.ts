// The fault runs' workload: concurrent clients through the gateway doing what users do (topups
// and purchases, pending and settled; settle; cancel; get account; get transaction; list), each
// operation recorded with its invoke and completion times and its outcome: ok (with the reply),
// failed (the ledger definitely did not apply it) or unknown (no answer, or an answer that says
// the outcome is open). An unknown create is retried with the same request_id, as the API
// promises is safe; the retry is an operation of its own in the history.

import { TransactionStatus, type Account, type LedgerClient, type Transaction } from "../../src/client/index.js";
import { isLedgerError } from "../../src/base/errors.js";
import type { Prng } from "../../src/base/prng.js";
import { transactionLocalIdFromRequestId } from "../../src/gateway/request-ids.js";
import { formatTransactionId, parseAccountId } from "../../src/ledger/ids.js";

export type OpKind =
  | "create-account"
  | "create-transaction"
  | "settle"
  | "cancel"
  | "get-account"
  | "get-transaction"
  | "list";

export interface RecordedOp {
  client: number;
  kind: OpKind;
  accountId: string;
  /** create-transaction: the request; settle/cancel/get-transaction: the transaction id. */
  amount?: bigint;
  settled?: boolean;
  requestId?: string;
  transactionId?: string;
  /** Milliseconds on one monotonic clock (the workload's time). */
  invokeMs: number;
  completeMs: number;
  outcome: "ok" | "failed" | "unknown";
  /** The error code when not ok. */
  code?: string;
  account?: Account;
  transaction?: Transaction;
  /** list: the first page, in creation order. */
  transactions?: Transaction[];
  /** list: the page size asked for. */
  pageSize?: number;
}

/** What the workload calls: the public client (LedgerClient over gRPC, or the whole-cluster
 * simulator's in-process one). */
export type WorkloadClient = Pick<
  LedgerClient,
  | "createAccount"
  | "getAccount"
  | "getTransaction"
  | "createTransaction"
  | "settleTransaction"
  | "cancelTransaction"
  | "listTransactions"
  | "close"
>;

/** The workload's time: the system's, or the simulator's virtual time. */
export interface WorkloadTime {
  /** Milliseconds on a monotonic clock. */
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

export const systemWorkloadTime: WorkloadTime = {
  nowMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface WorkloadOptions {
  /** A new client (one per workload client), whose calls time out after callTimeoutMs. */
  connect: () => WorkloadClient;
  time?: WorkloadTime;
  clients: number;
  /** Accounts created before the clients start (their creation is recorded too). */
  accounts: number;
  random: Prng;
  /** Per-call deadline: short enough that a fault yields "unknown" rather than a stall. */
  callTimeoutMs: number;
  /** Page size of list operations (a list sees the first page only). */
  listPageSize: number;
  /** A client's pause between two calls, at most (uniform from 0); none by default. */
  thinkMsMax?: number;
}

/** Least pause after an unknown outcome (up to 5x this, at random). */
const unknownBackoffMsMin = 50;

/** Codes after which the ledger certainly did not apply the call: its own rules refused it. */
const definiteFailures = new Set(["INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "OUT_OF_RANGE"]);

export class Workload {
  readonly history: RecordedOp[] = [];
  readonly accountIds: string[] = [];
  private stopping = false;
  private readonly clients: WorkloadClient[] = [];
  private running: Promise<void>[] = [];
  private readonly time: WorkloadTime;

  constructor(private readonly options: WorkloadOptions) {
    this.time = options.time ?? systemWorkloadTime;
    for (let i = 0; i < options.clients; i++) this.clients.push(options.connect());
  }

  /** Creates the accounts (retrying unknown outcomes with the same request_id), then starts the clients. */
  async start(runId: string): Promise<void> {
    const client = this.clients[0]!;
    for (let i = 0; i < this.options.accounts; i++) {
      const requestId = `${runId}-account-${i}`;
      for (;;) {
        const op = await this.run(0, { kind: "create-account", accountId: "", requestId }, () =>
          client.createAccount({ requestId }),
        );
        if (op.outcome === "ok" && op.account) {
          this.accountIds.push(op.account.id);
          break;
        }
        if (op.outcome === "failed") throw new Error(`creating account ${requestId} failed: ${op.code}`);
      }
    }
    this.running = this.clients.map((c, i) => this.clientLoop(c, i, runId));
  }

  /** Stops the clients after their current operation, and closes them. */
  async stop(): Promise<void> {
    await this.pause();
    for (const c of this.clients) c.close();
  }

  /** Stops the clients after their current operation; resume() starts them again. */
  async pause(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** Starts the paused clients again on the same accounts; `runId` must differ from the
   * earlier ones, since it names the clients' request_ids. */
  resume(runId: string): void {
    this.stopping = false;
    this.running = this.clients.map((c, i) => this.clientLoop(c, i, runId));
  }

  counts(): Record<"ok" | "failed" | "unknown", number> {
    const counts = { ok: 0, failed: 0, unknown: 0 };
    for (const op of this.history) counts[op.outcome]++;
    return counts;
  }

  private async clientLoop(client: WorkloadClient, index: number, runId: string): Promise<void> {
    const rnd = this.options.random;
    let sequence = 0;
    /** Pending transactions this client created, by id: candidates for settle and cancel. */
    const pending: string[] = [];
    /** Unknown creates, retried with the same request until they have an answer. */
    let retry: { accountId: string; amount: bigint; settled: boolean; requestId: string } | undefined;
    while (!this.stopping) {
      const thinkMsMax = this.options.thinkMsMax ?? 0;
      if (thinkMsMax > 0) {
        await this.time.sleep(rnd.float() * thinkMsMax);
        if (this.stopping) break;
      }
      const accountId = this.accountIds[rnd.intBelow(this.accountIds.length)]!;
      const roll = rnd.intBelow(100);
      if (retry !== undefined || roll < 45) {
        const request = retry ?? {
          accountId,
          amount: rnd.intBelow(3) === 0 ? -BigInt(1 + rnd.intBelow(50)) : BigInt(1 + rnd.intBelow(100)),
          settled: rnd.intBelow(2) === 0,
          requestId: `${runId}-c${index}-${sequence++}`,
        };
        // The id the request_id maps to: known even when the outcome is not.
        const transactionId = formatTransactionId({
          accountId: parseAccountId(request.accountId, "account id"),
          localId: transactionLocalIdFromRequestId(parseAccountId(request.accountId, "account id"), request.requestId),
        });
        const op = await this.run(index, { kind: "create-transaction", ...request, transactionId }, () =>
          client.createTransaction(request),
        );
        retry = op.outcome === "unknown" ? request : undefined;
        if (op.outcome === "ok" && op.transaction?.status === TransactionStatus.PENDING)
          pending.push(op.transaction.id);
      } else if (roll < 60 && pending.length > 0) {
        const transactionId = pending.splice(rnd.intBelow(pending.length), 1)[0]!;
        const settle = rnd.intBelow(2) === 0;
        const owner = transactionId.slice(0, 16);
        const op = await this.run(index, { kind: settle ? "settle" : "cancel", accountId: owner, transactionId }, () =>
          settle ? client.settleTransaction(transactionId) : client.cancelTransaction(transactionId),
        );
        // An unknown settle or cancel may be tried again later, or the other one may be.
        if (op.outcome === "unknown") pending.push(transactionId);
      } else if (roll < 80) {
        await this.run(index, { kind: "get-account", accountId }, () => client.getAccount(accountId));
      } else if (roll < 90 && pending.length > 0) {
        const transactionId = pending[rnd.intBelow(pending.length)]!;
        await this.run(index, { kind: "get-transaction", accountId: transactionId.slice(0, 16), transactionId }, () =>
          client.getTransaction(transactionId),
        );
      } else {
        await this.run(
          index,
          { kind: "list", accountId, pageSize: this.options.listPageSize },
          async () => (await client.listTransactions({ accountId, pageSize: this.options.listPageSize })).transactions,
        );
      }
    }
  }

  private async run(
    client: number,
    op: Omit<RecordedOp, "client" | "invokeMs" | "completeMs" | "outcome">,
    call: () => Promise<Account | Transaction | Transaction[]>,
  ): Promise<RecordedOp> {
    const invokeMs = this.time.nowMs();
    let recorded: RecordedOp;
    try {
      const value = await call();
      const completeMs = this.time.nowMs();
      recorded = { client, ...op, invokeMs, completeMs, outcome: "ok" };
      if (Array.isArray(value)) recorded.transactions = value;
      else if ("availableBalance" in value) recorded.account = value;
      else recorded.transaction = value;
    } catch (e) {
      const completeMs = this.time.nowMs();
      if (!isLedgerError(e)) throw e;
      recorded = {
        client,
        ...op,
        invokeMs,
        completeMs,
        outcome: definiteFailures.has(e.code) ? "failed" : "unknown",
        code: e.code,
      };
    }
    this.history.push(recorded);
    // A client that heard nothing backs off before its next call, as a real one would; without
    // it a gateway that is down turns every client into a busy loop of failed connects.
    if (recorded.outcome === "unknown")
      await this.time.sleep(unknownBackoffMsMin + this.options.random.intBelow(unknownBackoffMsMin * 4));
    return recorded;
  }
}
