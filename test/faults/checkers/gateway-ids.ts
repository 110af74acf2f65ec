// The transaction id the gateway gives a create with a request_id, computed the gateway's way
// (src/gateway/request-ids.ts): pass it as `transactionIdOf` so that the checkers know the id
// of a create whose reply never came, and can tell what it did.

import { transactionLocalIdFromRequestId } from "../../../src/gateway/request-ids.js";
import { formatTransactionId, parseAccountId } from "../../../src/ledger/ids.js";

export function gatewayTransactionIdOf(accountId: string, requestId: string): string {
  const account = parseAccountId(accountId, "accountId");
  return formatTransactionId({ accountId: account, localId: transactionLocalIdFromRequestId(account, requestId) });
}
