// Walks ListTransactions page by page. The server's token is opaque; the only thing we can
// check is that it moves, so a server bug cannot trap a caller in an endless loop.

import { LedgerError } from "../base/errors.js";
import type { ListTransactionsResponse, Transaction } from "../gen/ledger/v1/ledger_pb.js";

export async function* listAllTransactions(
  fetchPage: (pageToken: string) => Promise<ListTransactionsResponse>,
): AsyncGenerator<Transaction> {
  const seen = new Set<string>();
  let token = "";
  for (;;) {
    const page = await fetchPage(token);
    yield* page.transactions;
    if (page.nextPageToken === "") return;
    if (seen.has(page.nextPageToken)) {
      throw new LedgerError(
        "INTERNAL",
        `ListTransactions returned page token ${JSON.stringify(page.nextPageToken)} twice`,
      );
    }
    seen.add(page.nextPageToken);
    token = page.nextPageToken;
  }
}
