// The client package's public surface: import from here rather than from its files.

export {
  LedgerClient,
  defaultLedgerAddress,
  type CallOptions,
  type ConnectOptions,
  type CreateTransactionInput,
  type CreateTransactionOutcome,
  type ListTransactionsInput,
} from "./ledger-client.js";
export { AdminClient } from "./admin-client.js";
export { parseAddress, addressProblem, type Address } from "../cluster/address.js";
export { LedgerError, type ErrorCode } from "../base/errors.js";
export {
  TransactionStatus,
  type Account,
  type Transaction,
  type ListTransactionsResponse,
} from "../gen/ledger/v1/ledger_pb.js";
