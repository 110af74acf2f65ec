// A LedgerBackend over the real ledger core held in memory (MemoryLedger), recording every call
// so tests can check what the service sent (ids, timestamps, deadlines) and that invalid input
// never reached the backend. `override` lets a test script the backend's answer instead.

import { create } from "@bufbuild/protobuf";
import {
  CoreErrorCode,
  CoreErrorSchema,
  QueryResultSchema,
  TransactionPageSchema,
  type Command,
  type CommandResult,
  type Query,
  type QueryResult,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import type { CallOptions, LedgerBackend, UpdateItem } from "../../src/ledger/backend.js";
import type { LedgerError } from "../../src/base/errors.js";
import { MemoryLedger } from "../../src/ledger/memory-ledger.js";

export type BackendCall =
  | { method: "update"; accountId: bigint; command: Command; options: CallOptions | undefined }
  | { method: "query"; accountId: bigint; query: Query; options: CallOptions | undefined }
  | { method: "updateMany"; items: readonly UpdateItem[]; options: CallOptions | undefined };

export class MemoryBackend implements LedgerBackend {
  readonly ledger = new MemoryLedger();
  readonly calls: BackendCall[] = [];
  /** When set, answers instead of the ledger (for results the real core never gives). */
  override: ((call: BackendCall) => CommandResult | QueryResult) | undefined;

  async update(accountId: bigint, command: Command, options?: CallOptions): Promise<CommandResult> {
    const call: BackendCall = { method: "update", accountId, command, options };
    this.calls.push(call);
    if (this.override) return this.override(call) as CommandResult;
    return this.ledger.apply(command).result;
  }

  /** Applies the items in order through the ledger (or `manyOverride`, item by item). */
  async updateMany(items: readonly UpdateItem[], options?: CallOptions): Promise<(CommandResult | LedgerError)[]> {
    this.calls.push({ method: "updateMany", items, options });
    return items.map((item, i) => this.manyOverride?.(item, i) ?? this.ledger.apply(item.command).result);
  }

  /** When set and it returns something, answers that item of updateMany instead of the ledger. */
  manyOverride: ((item: UpdateItem, position: number) => CommandResult | LedgerError | undefined) | undefined;

  async query(accountId: bigint, query: Query, options?: CallOptions): Promise<QueryResult> {
    const call: BackendCall = { method: "query", accountId, query, options };
    this.calls.push(call);
    if (this.override) return this.override(call) as QueryResult;
    return this.read(query);
  }

  async close(): Promise<void> {}

  private read(query: Query): QueryResult {
    const { kind } = query;
    switch (kind.case) {
      case "getAccount": {
        const account = this.ledger.getAccount(kind.value.accountId);
        return account ? result({ case: "account", value: account }) : notFound("account not found");
      }
      case "getTransaction": {
        const t = this.ledger.getTransaction(kind.value.accountId, kind.value.localId);
        return t ? result({ case: "transaction", value: t }) : notFound("transaction not found");
      }
      case "listTransactions": {
        const { accountId, afterSeq, limit } = kind.value;
        const account = this.ledger.getAccount(accountId);
        if (!account) return notFound("account not found");
        const transactions = this.ledger.listTransactions(accountId, afterSeq, limit);
        const last = transactions.at(-1);
        const more = last !== undefined && last.seq < account.transactionCount;
        return result({
          case: "page",
          value: create(TransactionPageSchema, { transactions, nextAfterSeq: more ? last.seq : 0n }),
        });
      }
      default:
        throw new Error(`memory backend: unexpected query ${String(kind.case)}`);
    }
  }
}

function result(kind: QueryResult["kind"]): QueryResult {
  return create(QueryResultSchema, { kind });
}

function notFound(message: string): QueryResult {
  return result({ case: "error", value: create(CoreErrorSchema, { code: CoreErrorCode.NOT_FOUND, message }) });
}
