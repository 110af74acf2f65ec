// Ids derived from a client's request_id, so a retried create lands on the same shard and the
// same record and the core can answer it with the original result. Each kind of id hashes under
// its own domain tag (NUL-terminated, so no tag is a prefix of another's input); a transaction's
// hash also covers its account, which scopes request ids to the account.

import { createHash } from "node:crypto";

const accountDomain = Buffer.from("ledger/account-id\0", "utf8");
const transactionDomain = Buffer.from("ledger/transaction-local-id\0", "utf8");

/** Account id = first 8 bytes (big-endian) of SHA-256(domain || request_id). */
export function accountIdFromRequestId(requestId: string): bigint {
  return first8BytesOfSha256(accountDomain, Buffer.from(requestId, "utf8"));
}

/** Transaction local id = first 8 bytes of SHA-256(domain || account id (8 bytes BE) || request_id). */
export function transactionLocalIdFromRequestId(accountId: bigint, requestId: string): bigint {
  const account = Buffer.alloc(8);
  account.writeBigUInt64BE(accountId);
  return first8BytesOfSha256(transactionDomain, account, Buffer.from(requestId, "utf8"));
}

function first8BytesOfSha256(...parts: Buffer[]): bigint {
  const hash = createHash("sha256");
  for (const p of parts) hash.update(p);
  return hash.digest().readBigUInt64BE(0);
}
