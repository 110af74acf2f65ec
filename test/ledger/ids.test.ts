import { describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { seededPrng } from "../../src/base/prng.js";
import {
  decodeUint64BE,
  encodeUint64BE,
  formatAccountId,
  formatTransactionId,
  parseAccountId,
  parseTransactionId,
} from "../../src/ledger/ids.js";
import { uint64Max } from "../../src/ledger/int64.js";

function randomUint64(prng: ReturnType<typeof seededPrng>): bigint {
  return (BigInt(prng.nextU32()) << 32n) | BigInt(prng.nextU32());
}

function invalidArgument(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerError);
    expect((error as LedgerError).code).toBe("INVALID_ARGUMENT");
    return error as LedgerError;
  }
  throw new Error("expected an INVALID_ARGUMENT LedgerError");
}

describe("account ids", () => {
  it("edge values render as 16 lowercase hex characters, big-endian", () => {
    expect(formatAccountId(0n)).toBe("0000000000000000");
    expect(formatAccountId(uint64Max)).toBe("ffffffffffffffff");
    expect(formatAccountId(0x0123456789abcdefn)).toBe("0123456789abcdef");
  });

  it("round-trip text <-> bigint <-> bytes for random and edge values", () => {
    const prng = seededPrng(7);
    const values = [0n, 1n, uint64Max, 1n << 63n, ...Array.from({ length: 200 }, () => randomUint64(prng))];
    for (const id of values) {
      expect(parseAccountId(formatAccountId(id), "account_id")).toBe(id);
      expect(decodeUint64BE(encodeUint64BE(id))).toBe(id);
    }
  });

  it("8-byte encoding is big-endian", () => {
    expect([...encodeUint64BE(0x0102030405060708n)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each([
    ["uppercase", "0123456789ABCDEF"],
    ["15 characters", "0123456789abcde"],
    ["17 characters", "0123456789abcdef0"],
    ["non-hex", "0123456789abcdeg"],
    ["0x prefix", "0x23456789abcdef"],
    ["surrounding space", " 123456789abcdef"],
    ["empty", ""],
  ])("rejects %s with INVALID_ARGUMENT naming the field", (_what, text) => {
    expect(invalidArgument(() => parseAccountId(text, "account_id")).message).toBe(
      "account_id must be exactly 16 lowercase hex characters",
    );
  });
});

describe("transaction ids", () => {
  it("round-trip: account id then local id, 32 lowercase hex characters", () => {
    const prng = seededPrng(8);
    const cases = [
      { accountId: 0n, localId: 0n },
      { accountId: uint64Max, localId: uint64Max },
      ...Array.from({ length: 100 }, () => ({ accountId: randomUint64(prng), localId: randomUint64(prng) })),
    ];
    for (const id of cases) {
      const text = formatTransactionId(id);
      expect(text).toMatch(/^[0-9a-f]{32}$/);
      expect(text.slice(0, 16)).toBe(formatAccountId(id.accountId));
      expect(parseTransactionId(text, "transaction_id")).toEqual(id);
    }
  });

  it.each([
    ["uppercase", "0123456789abcdef0123456789ABCDEF"],
    ["31 characters", "0123456789abcdef0123456789abcde"],
    ["an account id", "0123456789abcdef"],
    ["non-hex", "0123456789abcdef0123456789abcdez"],
  ])("rejects %s with INVALID_ARGUMENT naming the field", (_what, text) => {
    expect(invalidArgument(() => parseTransactionId(text, "transaction_id")).message).toBe(
      "transaction_id must be exactly 32 lowercase hex characters",
    );
  });
});
