// The stored form of ledger records: a compact fixed layout instead of protobuf. Applying a
// transaction reads and writes an account record and writes a transaction record on every
// replica; protobuf-es encodes and decodes by reflection, which was about a quarter of a node's
// busy time. The proto messages (ledger.core.v1.AccountRecord, TransactionRecord) stay the
// definition of the fields; this is only how they sit on disk, and test/storage checks every
// field round-trips exactly as through the proto codec.
//
//   account:     [0xA1][id u64][available i64][settled i64][created_at i64][updated_at i64]
//                [transaction_count u64][request_id: len u32, UTF-8]
//   transaction: [0xA2][account_id u64][local_id u64][seq u64][amount i64][created_at i64]
//                [updated_at i64][finished_by u64][status i32][created_settled u8]
//                [description: len u32, UTF-8][request_id: len u32, UTF-8]
//
// Integers are big-endian. The first byte tells the formats apart: a protobuf encoding of these
// messages starts with a field tag of fields 1-11 (0x08-0x5d) or is empty, never 0xA1 or 0xA2,
// so records written by earlier versions (protobuf) are still read.

import { fromBinary } from "@bufbuild/protobuf";
import {
  AccountRecordSchema,
  TransactionRecordSchema,
  type AccountRecord,
  type TransactionRecord,
} from "../gen/ledger/core/v1/core_pb.js";
import { isInt64, isUint64 } from "../ledger/int64.js";

const accountFormat = 0xa1;
const transactionFormat = 0xa2;
const accountFixedBytes = 1 + 6 * 8 + 4;
const transactionFixedBytes = 1 + 7 * 8 + 4 + 1 + 4 + 4;
const int32Min = -(2 ** 31);
const int32Max = 2 ** 31 - 1;

/** Stored bytes that are not a record of the expected kind: a storage fault, never a value. */
export class RecordFormatError extends Error {
  override name = "RecordFormatError";
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

// Records are built in one scratch buffer and copied out once (one allocation per record).
// Safe because nothing here awaits between writing the scratch and copying it.
let scratch = new Uint8Array(1024);
let scratchView = new DataView(scratch.buffer);

/** Room for `bytes` in the scratch buffer (a record with long strings grows it). */
function scratchFor(bytes: number): void {
  if (bytes <= scratch.length) return;
  scratch = new Uint8Array(bytes * 2);
  scratchView = new DataView(scratch.buffer);
}

function checkInt64(value: bigint, field: string): void {
  if (!isInt64(value)) throw new RangeError(`${field} ${value} is outside int64`);
}

function checkUint64(value: bigint, field: string): void {
  if (!isUint64(value)) throw new RangeError(`${field} ${value} is outside uint64`);
}

/** Writes `text` as [len u32][UTF-8] at `at`; returns the offset after it. */
function putString(text: string, at: number): number {
  if (text.length === 0) {
    scratchView.setUint32(at, 0);
    return at + 4;
  }
  const { written } = utf8.encodeInto(text, scratch.subarray(at + 4));
  scratchView.setUint32(at, written);
  return at + 4 + written;
}

export function encodeAccountRecord(r: AccountRecord): Uint8Array {
  checkUint64(r.id, "id");
  checkInt64(r.availableBalance, "available_balance");
  checkInt64(r.settledBalance, "settled_balance");
  checkInt64(r.createdAt, "created_at");
  checkInt64(r.updatedAt, "updated_at");
  checkUint64(r.transactionCount, "transaction_count");
  // A UTF-16 code unit takes at most 3 bytes of UTF-8.
  scratchFor(accountFixedBytes + 3 * r.requestId.length);
  scratch[0] = accountFormat;
  scratchView.setBigUint64(1, r.id);
  scratchView.setBigInt64(9, r.availableBalance);
  scratchView.setBigInt64(17, r.settledBalance);
  scratchView.setBigInt64(25, r.createdAt);
  scratchView.setBigInt64(33, r.updatedAt);
  scratchView.setBigUint64(41, r.transactionCount);
  const end = putString(r.requestId, 49);
  return scratch.slice(0, end);
}

export function encodeTransactionRecord(r: TransactionRecord): Uint8Array {
  checkUint64(r.accountId, "account_id");
  checkUint64(r.localId, "local_id");
  checkUint64(r.seq, "seq");
  checkInt64(r.amount, "amount");
  checkInt64(r.createdAt, "created_at");
  checkInt64(r.updatedAt, "updated_at");
  checkUint64(r.finishedBy, "finished_by");
  if (!Number.isInteger(r.status) || r.status < int32Min || r.status > int32Max)
    throw new RangeError(`status ${r.status} is outside int32`);
  scratchFor(transactionFixedBytes + 3 * (r.description.length + r.requestId.length));
  scratch[0] = transactionFormat;
  scratchView.setBigUint64(1, r.accountId);
  scratchView.setBigUint64(9, r.localId);
  scratchView.setBigUint64(17, r.seq);
  scratchView.setBigInt64(25, r.amount);
  scratchView.setBigInt64(33, r.createdAt);
  scratchView.setBigInt64(41, r.updatedAt);
  scratchView.setBigUint64(49, r.finishedBy);
  scratchView.setInt32(57, r.status);
  scratch[61] = r.createdSettled ? 1 : 0;
  const end = putString(r.requestId, putString(r.description, 62));
  return scratch.slice(0, end);
}

/** Reads stored bytes in either format; throws RecordFormatError on anything else. */
export function decodeAccountRecord(bytes: Uint8Array): AccountRecord {
  if (bytes[0] !== accountFormat) return legacy(bytes, () => fromBinary(AccountRecordSchema, bytes), "account");
  const reader = new Reader(bytes, "account");
  reader.need(accountFixedBytes);
  const v = reader.view;
  const record: AccountRecord = {
    $typeName: "ledger.core.v1.AccountRecord",
    id: v.getBigUint64(1),
    availableBalance: v.getBigInt64(9),
    settledBalance: v.getBigInt64(17),
    createdAt: v.getBigInt64(25),
    updatedAt: v.getBigInt64(33),
    requestId: "",
    transactionCount: v.getBigUint64(41),
  };
  reader.at = 49;
  record.requestId = reader.string("request_id");
  reader.end();
  return record;
}

export function decodeTransactionRecord(bytes: Uint8Array): TransactionRecord {
  if (bytes[0] !== transactionFormat)
    return legacy(bytes, () => fromBinary(TransactionRecordSchema, bytes), "transaction");
  const reader = new Reader(bytes, "transaction");
  reader.need(transactionFixedBytes);
  const v = reader.view;
  const settled = bytes[61];
  if (settled !== 0 && settled !== 1) throw reader.fault(`created_settled byte is ${settled}`);
  const record: TransactionRecord = {
    $typeName: "ledger.core.v1.TransactionRecord",
    accountId: v.getBigUint64(1),
    localId: v.getBigUint64(9),
    seq: v.getBigUint64(17),
    amount: v.getBigInt64(25),
    description: "",
    status: v.getInt32(57),
    createdSettled: settled === 1,
    requestId: "",
    createdAt: v.getBigInt64(33),
    updatedAt: v.getBigInt64(41),
    finishedBy: v.getBigUint64(49),
  };
  reader.at = 62;
  record.description = reader.string("description");
  record.requestId = reader.string("request_id");
  reader.end();
  return record;
}

function legacy<T>(bytes: Uint8Array, decode: () => T, kind: string): T {
  const first = bytes[0];
  // Protobuf field tags of these messages (fields 1-11): anything else is not a record.
  if (first !== undefined && (first < 0x08 || first > 0x5d))
    throw new RecordFormatError(`stored ${kind} record starts with unknown format byte 0x${first.toString(16)}`);
  try {
    return decode();
  } catch (e) {
    throw new RecordFormatError(`stored ${kind} record is neither format: ${String(e)}`);
  }
}

class Reader {
  readonly view: DataView;
  at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly kind: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fault(why: string): RecordFormatError {
    return new RecordFormatError(`stored ${this.kind} record of ${this.bytes.length} bytes: ${why}`);
  }

  need(bytes: number): void {
    if (this.bytes.length < bytes) throw this.fault(`shorter than its ${bytes} fixed bytes`);
  }

  string(field: string): string {
    if (this.at + 4 > this.bytes.length) throw this.fault(`${field} length past the end`);
    const length = this.view.getUint32(this.at);
    const start = this.at + 4;
    if (length > this.bytes.length - start) throw this.fault(`${field} of ${length} bytes runs past the end`);
    this.at = start + length;
    if (length === 0) return "";
    try {
      return utf8Decoder.decode(this.bytes.subarray(start, start + length));
    } catch {
      throw this.fault(`${field} is not valid UTF-8`);
    }
  }

  end(): void {
    if (this.at !== this.bytes.length) throw this.fault(`${this.bytes.length - this.at} bytes after the last field`);
  }
}
