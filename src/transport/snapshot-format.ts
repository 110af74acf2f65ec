// The format of a snapshot stream's data: the limits on each pair, and the checksum the trailer
// carries: SHA-256 over every pair in order, each as
// (key length as 4-byte big-endian, key, value length as 4-byte big-endian, value). Length
// prefixes make the encoding unambiguous (("ab","c") and ("a","bc") hash differently).
// Shared by the sender and the receiver so both sides hash exactly the same bytes.

import { createHash, type Hash } from "node:crypto";
import { assert } from "../base/assert.js";
import { LedgerError } from "../base/errors.js";
import { snapshotKeyBytesMax, snapshotValueBytesMax } from "./limits.js";

export interface SnapshotPairBytes {
  key: Uint8Array;
  value: Uint8Array;
}

export class SnapshotDigest {
  private readonly hash: Hash = createHash("sha256");
  private readonly lengths = new DataView(new ArrayBuffer(4));
  private readonly lengthBytes = new Uint8Array(this.lengths.buffer);
  private pairs = 0;

  add(pair: SnapshotPairBytes): void {
    this.addLength(pair.key.length);
    this.hash.update(pair.key);
    this.addLength(pair.value.length);
    this.hash.update(pair.value);
    this.pairs++;
  }

  get pairCount(): number {
    return this.pairs;
  }

  /** The SHA-256; the digest cannot be used afterwards. */
  finish(): Uint8Array {
    return new Uint8Array(this.hash.digest());
  }

  private addLength(n: number): void {
    assert(n <= 0xffff_ffff, () => `snapshot pair field of ${n} bytes does not fit the 4-byte length prefix`);
    this.lengths.setUint32(0, n, false);
    this.hash.update(this.lengthBytes);
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Checks a pair against the limits both ends enforce (so a bad local pair fails at the sender). */
export function checkSnapshotPair(pair: SnapshotPairBytes, ordinal: number): LedgerError | undefined {
  if (pair.key.length === 0 || pair.key.length > snapshotKeyBytesMax) {
    return new LedgerError(
      "INVALID_ARGUMENT",
      `snapshot pair ${ordinal}: key of ${pair.key.length} bytes is outside 1..${snapshotKeyBytesMax}`,
    );
  }
  if (pair.value.length > snapshotValueBytesMax) {
    return new LedgerError(
      "INVALID_ARGUMENT",
      `snapshot pair ${ordinal}: value of ${pair.value.length} bytes exceeds ${snapshotValueBytesMax}`,
    );
  }
  return undefined;
}
