// The stored record formats (src/storage/record-codec.ts) against the proto definitions, which
// stay the source of truth for the fields: every record round-trips to exactly what the proto
// codec gives, records stored by earlier versions (protobuf) are still read, and damaged bytes
// are a RecordFormatError, never a value.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { seededPrng, type Prng } from "../../src/base/prng.js";
import {
  AccountRecordSchema,
  TransactionRecordSchema,
  type AccountRecord,
  type TransactionRecord,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import {
  RecordFormatError,
  decodeAccountRecord,
  decodeTransactionRecord,
  encodeAccountRecord,
  encodeTransactionRecord,
} from "../../src/storage/record-codec.js";

const cases = 2_000;

function u64(rng: Prng): bigint {
  // Edges often, since they are where encodings break.
  switch (rng.intBelow(5)) {
    case 0:
      return 0n;
    case 1:
      return 2n ** 64n - 1n;
    default:
      return (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());
  }
}

function i64(rng: Prng): bigint {
  switch (rng.intBelow(6)) {
    case 0:
      return -(2n ** 63n);
    case 1:
      return 2n ** 63n - 1n;
    case 2:
      return BigInt(rng.intBelow(2001)) - 1000n;
    default:
      return BigInt.asIntN(64, u64(rng));
  }
}

/** Text of any kind: ASCII, multi-byte, astral (surrogate pairs) and lone surrogates. */
function text(rng: Prng, maxUnits: number): string {
  const alphabet = ["a", "Z", "0", " ", "é", "€", "漢", "😀", "\u0000", "\ud800", "\udfff", "\n"];
  let s = "";
  const n = rng.intBelow(maxUnits + 1);
  while (s.length < n) s += alphabet[rng.intBelow(alphabet.length)];
  return s;
}

function randomAccount(rng: Prng): AccountRecord {
  return create(AccountRecordSchema, {
    id: u64(rng),
    availableBalance: i64(rng),
    settledBalance: i64(rng),
    createdAt: i64(rng),
    updatedAt: i64(rng),
    requestId: text(rng, 64),
    transactionCount: u64(rng),
  });
}

function randomTransaction(rng: Prng): TransactionRecord {
  return create(TransactionRecordSchema, {
    accountId: u64(rng),
    localId: u64(rng),
    seq: u64(rng),
    amount: i64(rng),
    description: text(rng, 256),
    status: rng.intBelow(3) === 0 ? rng.nextU32() | 0 : rng.intBelow(6),
    createdSettled: rng.intBelow(2) === 0,
    requestId: text(rng, 64),
    createdAt: i64(rng),
    updatedAt: i64(rng),
    finishedBy: u64(rng),
  });
}

/** What the proto codec makes of a record (lone surrogates become U+FFFD in both). */
const viaProto = {
  account: (r: AccountRecord) => fromBinary(AccountRecordSchema, toBinary(AccountRecordSchema, r)),
  transaction: (r: TransactionRecord) => fromBinary(TransactionRecordSchema, toBinary(TransactionRecordSchema, r)),
};

describe("stored record formats against the proto definitions", () => {
  it(`an account record round-trips to what the proto codec gives (${cases} seeded records)`, () => {
    const rng = seededPrng(1);
    for (let i = 0; i < cases; i++) {
      const r = randomAccount(rng);
      expect(decodeAccountRecord(encodeAccountRecord(r)), `case ${i}`).toEqual(viaProto.account(r));
    }
  });

  it(`a transaction record round-trips to what the proto codec gives (${cases} seeded records)`, () => {
    const rng = seededPrng(2);
    for (let i = 0; i < cases; i++) {
      const r = randomTransaction(rng);
      expect(decodeTransactionRecord(encodeTransactionRecord(r)), `case ${i}`).toEqual(viaProto.transaction(r));
    }
  });

  it("records stored as protobuf by earlier versions read the same, including all-default ones", () => {
    const rng = seededPrng(3);
    for (let i = 0; i < 200; i++) {
      const a = randomAccount(rng);
      expect(decodeAccountRecord(toBinary(AccountRecordSchema, a))).toEqual(viaProto.account(a));
      const t = randomTransaction(rng);
      expect(decodeTransactionRecord(toBinary(TransactionRecordSchema, t))).toEqual(viaProto.transaction(t));
    }
    expect(decodeAccountRecord(new Uint8Array(0))).toEqual(create(AccountRecordSchema));
    expect(decodeTransactionRecord(new Uint8Array(0))).toEqual(create(TransactionRecordSchema));
  });

  it("the encoding is deterministic: equal records give equal bytes", () => {
    const rng = seededPrng(4);
    for (let i = 0; i < 200; i++) {
      const t = randomTransaction(rng);
      expect(encodeTransactionRecord({ ...t })).toEqual(encodeTransactionRecord(t));
    }
  });

  it("refuses to encode values its fields cannot hold, naming the field", () => {
    const a = create(AccountRecordSchema, { id: 1n });
    expect(() => encodeAccountRecord({ ...a, availableBalance: 2n ** 63n })).toThrow(/available_balance/);
    expect(() => encodeAccountRecord({ ...a, id: -1n })).toThrow(/^id /);
    const t = create(TransactionRecordSchema, { accountId: 1n });
    expect(() => encodeTransactionRecord({ ...t, seq: 2n ** 64n })).toThrow(/seq/);
    expect(() => encodeTransactionRecord({ ...t, status: 2 ** 31 })).toThrow(/status/);
  });
});

describe("damaged stored records are a RecordFormatError", () => {
  const rng = seededPrng(5);
  const account = encodeAccountRecord(randomAccount(rng));
  const transaction = encodeTransactionRecord({ ...randomTransaction(rng), description: "coffee", requestId: "r-1" });

  it("every truncation and an extra trailing byte are refused", () => {
    for (let n = 1; n < account.length; n++)
      expect(() => decodeAccountRecord(account.subarray(0, n)), `account cut at ${n}`).toThrow(RecordFormatError);
    for (let n = 1; n < transaction.length; n++)
      expect(() => decodeTransactionRecord(transaction.subarray(0, n)), `transaction cut at ${n}`).toThrow(
        RecordFormatError,
      );
    expect(() => decodeAccountRecord(Uint8Array.of(...account, 0))).toThrow(/after the last field/);
    expect(() => decodeTransactionRecord(Uint8Array.of(...transaction, 0))).toThrow(/after the last field/);
  });

  it("a record of the other kind, an unknown format byte, a bad flag or bad UTF-8 is refused", () => {
    expect(() => decodeAccountRecord(transaction)).toThrow(/unknown format byte 0xa2/);
    expect(() => decodeTransactionRecord(account)).toThrow(/unknown format byte 0xa1/);
    const flag = transaction.slice();
    flag[61] = 7;
    expect(() => decodeTransactionRecord(flag)).toThrow(/created_settled/);
    const utf = transaction.slice();
    utf[62 + 4] = 0xff; // the first byte of the description
    expect(() => decodeTransactionRecord(utf)).toThrow(/description is not valid UTF-8/);
  });

  it(`random bytes decode to a record or a RecordFormatError, nothing else (${cases} seeded inputs)`, () => {
    const fuzz = seededPrng(6);
    for (let i = 0; i < cases; i++) {
      const base = fuzz.intBelow(2) === 0 ? account : transaction;
      const bytes = base.slice(0, 1 + fuzz.intBelow(base.length + 8));
      for (let flips = fuzz.intBelow(4); flips > 0; flips--) bytes[fuzz.intBelow(bytes.length)] = fuzz.intBelow(256);
      for (const decode of [decodeAccountRecord, decodeTransactionRecord]) {
        try {
          decode(bytes);
        } catch (e) {
          expect(e, `input ${i}`).toBeInstanceOf(RecordFormatError);
        }
      }
    }
  });
});
