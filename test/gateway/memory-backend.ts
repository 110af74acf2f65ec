import type { Command, CommandResult, Query, QueryResult } from "../../src/gen/ledger/core/v1/core_pb.js";
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
    return this.ledger.query(query);
  }

  async close(): Promise<void> {}
}
