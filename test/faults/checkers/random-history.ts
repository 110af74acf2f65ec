// Generated linearizable histories for the checkers' tests: the real core (MemoryLedger) applies
// one account's calls one at a time, each at its own linearization point, and each call's
// interval is drawn around that point so that several overlap. Some updates end unknown: applied
// or not, the client is not told.

import { seededPrng, type Prng } from "../../../src/base/prng.js";
import { CoreErrorCode, type CommandResult, type TransactionRecord } from "../../../src/gen/ledger/core/v1/core_pb.js";
import type { TransactionStatus } from "../../../src/gen/ledger/v1/ledger_pb.js";
import { MemoryLedger } from "../../../src/ledger/memory-ledger.js";
import { formatTransactionId } from "../../../src/ledger/ids.js";
import {
  cancelTransactionCommand,
  createAccountCommand,
  createTransactionCommand,
  settleTransactionCommand,
} from "../../../src/gateway/core-requests.js";
import type { FinalState, HistoryOp, TransactionValue } from "../history.js";

export interface GeneratorOptions {
  readonly seed: number;
  readonly ops: number;
  /** Each call's interval reaches up to this far on either side of its linearization point. */
  readonly overlapMs: number;
  /** Distance between consecutive linearization points. */
  readonly spacingMs: number;
  /** Share of updates whose outcome the client does not learn. */
  readonly unknownPercent: number;
}

export interface GeneratedHistory {
  readonly history: HistoryOp[];
  readonly finalState: FinalState;
  readonly transactionIdOf: (accountId: string, requestId: string) => string;
  /** The most calls in flight at one instant. */
  readonly maxOverlap: number;
}

const accountHex = "00000000000000c3";
const accountId = BigInt(`0x${accountHex}`);

function localIdOf(requestId: string): bigint {
  let n = 7n;
  for (const ch of requestId) n = (n * 131n + BigInt(ch.charCodeAt(0))) % 2n ** 61n;
  return n;
}

const transactionIdOf = (account: string, requestId: string): string =>
  account + localIdOf(requestId).toString(16).padStart(16, "0");

export function generateHistory(options: GeneratorOptions): GeneratedHistory {
  const random = seededPrng(options.seed);
  const ledger = new MemoryLedger();
  const history: HistoryOp[] = [];
  const creates: { requestId: string; amount: bigint; settled: boolean }[] = [];
  ledger.apply(createAccountCommand(0n, accountId, "account"));
  history.push({
    client: 0,
    kind: "create-account",
    accountId: accountHex,
    requestId: "account",
    invokeMs: 0,
    completeMs: 1,
    outcome: "ok",
    account: { id: accountHex, availableBalance: 0n, settledBalance: 0n },
  });
  for (let i = 1; i <= options.ops; i++) {
    const at = 10 + i * options.spacingMs;
    const span = {
      invokeMs: at - random.intBelow(options.overlapMs + 1),
      completeMs: at + random.intBelow(options.overlapMs + 1),
    };
    const base = { client: i % 10, accountId: accountHex, ...span };
    const roll = random.intBelow(100);
    const unknown = random.intBelow(100) < options.unknownPercent;
    if (roll < 40 || creates.length === 0) {
      const retry = creates.length > 0 && random.intBelow(10) === 0;
      const request = retry
        ? creates[random.intBelow(creates.length)]!
        : { requestId: `r${i}`, amount: randomAmount(random), settled: random.intBelow(2) === 0 };
      if (!retry) creates.push(request);
      const op = { ...base, kind: "create-transaction" as const, ...request };
      const command = createTransactionCommand(BigInt(at), {
        accountId,
        localId: localIdOf(request.requestId),
        description: "",
        ...request,
      });
      history.push(
        unknown ? unknownUpdate(op, ledger, command, random) : { ...op, ...reply(ledger.apply(command).result) },
      );
    } else if (roll < 55) {
      const target = creates[random.intBelow(creates.length)]!;
      const ref = { accountId, localId: localIdOf(target.requestId) };
      const settle = random.intBelow(2) === 0;
      const op = {
        ...base,
        kind: settle ? ("settle" as const) : ("cancel" as const),
        transactionId: formatTransactionId(ref),
      };
      const command = settle ? settleTransactionCommand(BigInt(at), ref) : cancelTransactionCommand(BigInt(at), ref);
      history.push(
        unknown ? unknownUpdate(op, ledger, command, random) : { ...op, ...reply(ledger.apply(command).result) },
      );
    } else if (roll < 75) {
      const a = ledger.getAccount(accountId)!;
      history.push({
        ...base,
        kind: "get-account",
        outcome: "ok",
        account: { id: accountHex, availableBalance: a.availableBalance, settledBalance: a.settledBalance },
      });
    } else if (roll < 85) {
      const target = creates[random.intBelow(creates.length)]!;
      const ref = { accountId, localId: localIdOf(target.requestId) };
      const record = ledger.getTransaction(accountId, ref.localId);
      const op = { ...base, kind: "get-transaction" as const, transactionId: formatTransactionId(ref) };
      history.push(
        record === undefined
          ? { ...op, outcome: "failed", code: "NOT_FOUND" }
          : { ...op, outcome: "ok", transaction: value(record) },
      );
    } else {
      history.push({
        ...base,
        kind: "list",
        outcome: "ok",
        transactions: ledger.listTransactions(accountId, 0n, 1_000).map(value),
      });
    }
  }
  const a = ledger.getAccount(accountId)!;
  const finalState = new Map([
    [
      accountHex,
      {
        account: { id: accountHex, availableBalance: a.availableBalance, settledBalance: a.settledBalance },
        transactions: ledger.listTransactions(accountId, 0n, 10_000).map(value),
      },
    ],
  ]);
  return { history, finalState, transactionIdOf, maxOverlap: maxOverlap(history) };
}

function unknownUpdate(
  op: Omit<HistoryOp, "outcome">,
  ledger: MemoryLedger,
  command: Parameters<MemoryLedger["apply"]>[0],
  random: Prng,
): HistoryOp {
  if (random.intBelow(2) === 0) ledger.apply(command);
  return { ...op, outcome: "unknown", code: "DEADLINE_EXCEEDED" };
}

function randomAmount(random: Prng): bigint {
  return random.intBelow(3) === 0 ? -BigInt(1 + random.intBelow(60)) : BigInt(1 + random.intBelow(100));
}

function reply(result: CommandResult): Pick<HistoryOp, "outcome" | "code" | "transaction"> {
  const { kind } = result;
  if (kind.case === "transaction") return { outcome: "ok", transaction: value(kind.value) };
  if (kind.case === "error") return { outcome: "failed", code: CoreErrorCode[kind.value.code] };
  throw new Error(`unexpected result ${kind.case}`);
}

function value(record: TransactionRecord): TransactionValue {
  return { id: formatTransactionId(record), amount: record.amount, status: record.status as TransactionStatus };
}

function maxOverlap(history: readonly HistoryOp[]): number {
  const events = history.flatMap((op) => [
    [op.invokeMs, 1],
    [op.completeMs ?? Infinity, -1],
  ]);
  events.sort((x, y) => x[0]! - y[0]! || y[1]! - x[1]!);
  let open = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (open += delta!));
  return most;
}
