// Identifier text and byte forms (DESIGN.md §4). An account id is a uint64 shown as exactly 16
// lowercase hex characters; a transaction id is the owning account id followed by a per-account
// uint64, 32 characters, so a transaction routes to its shard without a lookup. Big-endian
// everywhere so that byte order, text order and numeric order agree (LevelDB keys rely on it).

import { assert } from "../base/assert.js";
import { LedgerError } from "../base/errors.js";
import { accountIdHexChars, transactionIdHexChars } from "./limits.js";
import { isUint64 } from "./int64.js";

export interface TransactionId {
  readonly accountId: bigint;
  readonly localId: bigint;
}

const accountIdPattern = new RegExp(`^[0-9a-f]{${accountIdHexChars}}$`);
const transactionIdPattern = new RegExp(`^[0-9a-f]{${transactionIdHexChars}}$`);

export function formatAccountId(accountId: bigint): string {
  assert(isUint64(accountId), `account id out of uint64 range: ${accountId}`);
  return accountId.toString(16).padStart(accountIdHexChars, "0");
}

/** Strict: only [0-9a-f], exact length. `field` names the input in the error message. */
export function parseAccountId(text: string, field: string): bigint {
  if (!accountIdPattern.test(text)) {
    throw new LedgerError("INVALID_ARGUMENT", `${field} must be exactly ${accountIdHexChars} lowercase hex characters`);
  }
  return BigInt(`0x${text}`);
}

export function formatTransactionId(id: TransactionId): string {
  assert(isUint64(id.localId), `local id out of uint64 range: ${id.localId}`);
  return formatAccountId(id.accountId) + id.localId.toString(16).padStart(accountIdHexChars, "0");
}

export function parseTransactionId(text: string, field: string): TransactionId {
  if (!transactionIdPattern.test(text)) {
    throw new LedgerError(
      "INVALID_ARGUMENT",
      `${field} must be exactly ${transactionIdHexChars} lowercase hex characters`,
    );
  }
  return {
    accountId: BigInt(`0x${text.slice(0, accountIdHexChars)}`),
    localId: BigInt(`0x${text.slice(accountIdHexChars)}`),
  };
}

export const uint64Bytes = 8;

/** Writes `value` as 8 bytes big-endian at `offset` of `target`. */
export function writeUint64BE(target: Uint8Array, offset: number, value: bigint): void {
  assert(isUint64(value), `value out of uint64 range: ${value}`);
  assert(offset >= 0 && offset + uint64Bytes <= target.length, `uint64 write outside the buffer at ${offset}`);
  new DataView(target.buffer, target.byteOffset, target.byteLength).setBigUint64(offset, value, false);
}

export function readUint64BE(source: Uint8Array, offset: number): bigint {
  assert(offset >= 0 && offset + uint64Bytes <= source.length, `uint64 read outside the buffer at ${offset}`);
  return new DataView(source.buffer, source.byteOffset, source.byteLength).getBigUint64(offset, false);
}

export function encodeUint64BE(value: bigint): Uint8Array {
  const bytes = new Uint8Array(uint64Bytes);
  writeUint64BE(bytes, 0, value);
  return bytes;
}

export function decodeUint64BE(bytes: Uint8Array): bigint {
  assert(bytes.length === uint64Bytes, `expected ${uint64Bytes} bytes, got ${bytes.length}`);
  return readUint64BE(bytes, 0);
}
