// ListTransactions page tokens. Opaque to clients, but a plain encoding of where the next page
// starts, so any gateway can continue a listing another one began (no server-side cursor state).
//
// Layout (21 bytes, base64url without padding = 28 characters):
//   version (1) | account id (8, BE) | after_seq (8, BE) | check (4)
// `check` is the first 4 bytes of SHA-256 over a domain tag and the first 17 bytes. It is not a
// secret (a token grants nothing the account id does not), it catches truncated, mangled or
// hand-edited tokens so they fail loudly instead of silently listing from another position.

import { createHash } from "node:crypto";
import { LedgerError } from "../base/errors.js";
import { assert } from "../base/assert.js";

const tokenVersion = 1;
const bodyBytes = 1 + 8 + 8;
const checkBytes = 4;
const tokenBytes = bodyBytes + checkBytes;
const tokenChars = Math.ceil((tokenBytes * 4) / 3);
const checkDomain = Buffer.from("ledger/page-token\0", "utf8");
const base64urlPattern = /^[A-Za-z0-9_-]*$/;

export interface PagePosition {
  accountId: bigint;
  /** Creation sequence number the next page starts after (> 0: a token always points past a page). */
  afterSeq: bigint;
}

export function encodePageToken(position: PagePosition): string {
  assert(position.afterSeq > 0n, "a page token points after at least one transaction");
  const bytes = Buffer.alloc(tokenBytes);
  bytes.writeUInt8(tokenVersion, 0);
  bytes.writeBigUInt64BE(position.accountId, 1);
  bytes.writeBigUInt64BE(position.afterSeq, 9);
  checksum(bytes.subarray(0, bodyBytes)).copy(bytes, bodyBytes);
  const token = bytes.toString("base64url");
  assert(token.length === tokenChars, "page token length");
  return token;
}

/**
 * The after_seq a listing of `accountId` continues from: 0 for an empty token (first page).
 * Anything but a token this service issued for this very account is INVALID_ARGUMENT.
 */
export function decodePageToken(token: string, accountId: bigint): bigint {
  if (token === "") return 0n;
  if (token.length !== tokenChars || !base64urlPattern.test(token)) {
    throw invalid("is malformed");
  }
  const bytes = Buffer.from(token, "base64url");
  // Base64 leaves spare bits in the last character; only the canonical spelling is accepted.
  if (bytes.length !== tokenBytes || bytes.toString("base64url") !== token) throw invalid("is malformed");
  if (bytes.readUInt8(0) !== tokenVersion) throw invalid("has an unknown version");
  if (!checksum(bytes.subarray(0, bodyBytes)).equals(bytes.subarray(bodyBytes))) throw invalid("is corrupted");
  if (bytes.readBigUInt64BE(1) !== accountId) throw invalid("was issued for another account");
  const afterSeq = bytes.readBigUInt64BE(9);
  if (afterSeq === 0n) throw invalid("is malformed");
  return afterSeq;
}

function checksum(body: Buffer): Buffer {
  return createHash("sha256").update(checkDomain).update(body).digest().subarray(0, checkBytes);
}

function invalid(why: string): LedgerError {
  return new LedgerError("INVALID_ARGUMENT", `page_token ${why}`);
}
