// Hand-written histories for the checkers' unit tests: one account by default, transactions
// named by their request_id (the id is derived from it, as the gateway does), times in ms.

import { TransactionStatus } from "../../../src/gen/ledger/v1/ledger_pb.js";
import type { FinalAccountState, HistoryOp, TransactionValue } from "../history.js";

export const accountA = "00000000000000a1";
export const accountB = "00000000000000b2";

export { TransactionStatus };
export const { PENDING, SETTLED, CANCELLED, INSUFFICIENT_FUNDS } = TransactionStatus;

type Span = readonly [invokeMs: number, completeMs: number | undefined];
/** ok with a status, a refusal code, or no answer. */
type Reply = TransactionStatus | { code: string } | "unknown";

export class HistoryBuilder {
  readonly ops: HistoryOp[] = [];
  private readonly amounts = new Map<string, bigint>();

  constructor(readonly accountId: string = accountA) {}

  /** The transaction id of a request_id on this account (a stand-in for the gateway's hash). */
  id(requestId: string): string {
    let n = 0;
    for (const ch of requestId) n = (n * 31 + ch.charCodeAt(0)) % 2 ** 40;
    return this.accountId + n.toString(16).padStart(16, "0");
  }

  createAccount(client: number, span: Span, reply: "ok" | "unknown" = "ok"): this {
    const account = reply === "ok" ? { id: this.accountId, availableBalance: 0n, settledBalance: 0n } : undefined;
    return this.push({
      client,
      kind: "create-account",
      accountId: "",
      requestId: `acct-${this.accountId}`,
      ...times(span),
      outcome: reply,
      account,
    });
  }

  create(client: number, span: Span, requestId: string, amount: bigint, settled: boolean, reply: Reply): this {
    this.amounts.set(requestId, amount);
    return this.push({
      client,
      kind: "create-transaction",
      accountId: this.accountId,
      amount,
      settled,
      requestId,
      ...times(span),
      ...this.txReply(requestId, reply),
    });
  }

  settle(client: number, span: Span, requestId: string, reply: Reply): this {
    return this.push({
      client,
      kind: "settle",
      accountId: this.accountId,
      transactionId: this.id(requestId),
      ...times(span),
      ...this.txReply(requestId, reply),
    });
  }

  cancel(client: number, span: Span, requestId: string, reply: Reply): this {
    return this.push({
      client,
      kind: "cancel",
      accountId: this.accountId,
      transactionId: this.id(requestId),
      ...times(span),
      ...this.txReply(requestId, reply),
    });
  }

  getTransaction(client: number, span: Span, requestId: string, reply: Reply): this {
    return this.push({
      client,
      kind: "get-transaction",
      accountId: this.accountId,
      transactionId: this.id(requestId),
      ...times(span),
      ...this.txReply(requestId, reply),
    });
  }

  getAccount(client: number, span: Span, available: bigint, settled: bigint): this {
    return this.push({
      client,
      kind: "get-account",
      accountId: this.accountId,
      ...times(span),
      outcome: "ok",
      account: { id: this.accountId, availableBalance: available, settledBalance: settled },
    });
  }

  /** An ok list of [requestId, status] in creation order. */
  list(client: number, span: Span, entries: readonly (readonly [string, TransactionStatus])[]): this {
    return this.push({
      client,
      kind: "list",
      accountId: this.accountId,
      ...times(span),
      outcome: "ok",
      transactions: this.transactions(entries),
    });
  }

  transactions(entries: readonly (readonly [string, TransactionStatus])[]): TransactionValue[] {
    return entries.map(([requestId, status]) => ({ id: this.id(requestId), amount: this.amount(requestId), status }));
  }

  final(
    available: bigint,
    settled: bigint,
    entries: readonly (readonly [string, TransactionStatus])[],
  ): FinalAccountState {
    return {
      account: { id: this.accountId, availableBalance: available, settledBalance: settled },
      transactions: this.transactions(entries),
    };
  }

  push(op: HistoryOp): this {
    this.ops.push(op);
    return this;
  }

  private amount(requestId: string): bigint {
    const amount = this.amounts.get(requestId);
    if (amount === undefined) throw new Error(`no create of ${requestId} in this history`);
    return amount;
  }

  private txReply(requestId: string, reply: Reply): Pick<HistoryOp, "outcome" | "code" | "transaction"> {
    if (reply === "unknown") return { outcome: "unknown", code: "DEADLINE_EXCEEDED" };
    if (typeof reply === "object") return { outcome: "failed", code: reply.code };
    return { outcome: "ok", transaction: { id: this.id(requestId), amount: this.amount(requestId), status: reply } };
  }
}

function times(span: Span): { invokeMs: number; completeMs?: number } {
  return span[1] === undefined ? { invokeMs: span[0] } : { invokeMs: span[0], completeMs: span[1] };
}
