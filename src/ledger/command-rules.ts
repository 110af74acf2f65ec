// The input rules of the ledger, in one place for every path that can put a command in a log:
// the public service checks a request's fields with the `...Problem` functions below (their
// words become its INVALID_ARGUMENT messages), and the node checks a decoded Command with
// `commandRefusal` and `timestampRefusal` before proposing it (issue 12, finding 5: the internal
// API stored what the public one refuses). One set of rules, so the two cannot drift.
//
// Refusals name the field by its path, e.g. `command.create_transaction.description is 20000
// bytes of UTF-8; at most 256 are allowed`. Pure: the clock reading is passed in.
//
// At apply time only `coreRefusal` may be used: it refuses what the core cannot apply at all
// (the core asserts on it, so no replica has ever applied such a command and refusing it changes
// no replica's state). The other rules are newer than some logs: a command already committed
// with, say, a long description was applied by the replicas that ran before this rule, and a
// replica that skipped it now on replay or catch-up would diverge from them.

import type { Command } from "../gen/ledger/core/v1/core_pb.js";
import {
  commandTimestampAheadMsMax,
  commandTimestampBehindMsMax,
  descriptionBytesMax,
  requestIdCharsMax,
} from "./limits.js";
import { isInt64, isUint64 } from "./int64.js";

const nsPerMs = 1_000_000n;

// ---- one field each: undefined when fine, else why (the caller puts the field's name first) ----

export function amountProblem(amount: bigint): string | undefined {
  if (amount === 0n) return "must not be 0 (positive is a topup, negative a purchase)";
  // The wire type is int64; in-process callers hold unbounded bigints.
  if (!isInt64(amount)) return "must fit in a signed 64-bit integer";
  return undefined;
}

export function descriptionProblem(text: string): string | undefined {
  if (hasLoneSurrogate(text)) return notUtf8;
  // Each UTF-16 unit is at most 3 bytes of UTF-8: short texts need no count.
  if (text.length * 3 <= descriptionBytesMax) return undefined;
  const bytes = utf8Bytes(text);
  return bytes > descriptionBytesMax
    ? `is ${bytes} bytes of UTF-8; at most ${descriptionBytesMax} are allowed`
    : undefined;
}

/** An empty request id means "none"; otherwise at most requestIdCharsMax Unicode characters. */
export function requestIdProblem(text: string): string | undefined {
  if (hasLoneSurrogate(text)) return notUtf8;
  // A code point takes one or two UTF-16 units: skip counting when the answer is already known.
  const chars =
    text.length <= requestIdCharsMax ? text.length : text.length > 2 * requestIdCharsMax ? Infinity : codePoints(text);
  return chars > requestIdCharsMax ? `is longer than ${requestIdCharsMax} characters` : undefined;
}

export function uint64Problem(value: bigint): string | undefined {
  return isUint64(value) ? undefined : "must fit in an unsigned 64-bit integer";
}

// ---- whole commands ----

/**
 * What the core cannot apply: a command without a kind, an amount of 0 or outside int64, an
 * id outside uint64. Safe at apply time (see the top of this file); `path` names the command.
 */
export function coreRefusal(command: Command, path: string): string | undefined {
  const { kind } = command;
  if (kind.case === undefined)
    return `${path} must set one of create_account, create_transaction, settle_transaction, cancel_transaction`;
  const at = `${path}.${kindFields[kind.case]}`;
  const idProblem = uint64Problem(kind.value.accountId);
  if (idProblem !== undefined) return `${at}.account_id ${idProblem}`;
  if (kind.case === "createAccount") return undefined;
  const localProblem = uint64Problem(kind.value.localId);
  if (localProblem !== undefined) return `${at}.local_id ${localProblem}`;
  if (kind.case !== "createTransaction") return undefined;
  const problem = amountProblem(kind.value.amount);
  return problem === undefined ? undefined : `${at}.amount ${problem}`;
}

/** Every rule the public API applies to what becomes this command, except the clock. */
export function commandRefusal(command: Command, path: string): string | undefined {
  const core = coreRefusal(command, path);
  if (core !== undefined) return core;
  const { kind } = command;
  if (kind.case === "createAccount")
    return fieldRefusal(`${path}.create_account.request_id`, requestIdProblem(kind.value.requestId));
  if (kind.case !== "createTransaction") return undefined;
  const at = `${path}.create_transaction`;
  return (
    fieldRefusal(`${at}.description`, descriptionProblem(kind.value.description)) ??
    fieldRefusal(`${at}.request_id`, requestIdProblem(kind.value.requestId))
  );
}

/**
 * The command's timestamp (Unix ns, stamped by the gateway) must be near `nowNs`, the proposing
 * node's clock: it becomes the records' created_at / updated_at. Checked when proposing only,
 * never at apply (apply must not read a clock: every replica has to decide alike).
 */
export function timestampRefusal(timestampNs: bigint, nowNs: bigint, path: string): string | undefined {
  const aheadMs = (timestampNs - nowNs) / nsPerMs;
  if (aheadMs > commandTimestampAheadMsMax) {
    return `${path} is ${timestampNs} ns, ${aheadMs} ms ahead of this node's clock; at most ${commandTimestampAheadMsMax} ms are allowed (commandTimestampAheadMsMax)`;
  }
  const behindMs = (nowNs - timestampNs) / nsPerMs;
  if (behindMs > commandTimestampBehindMsMax) {
    return `${path} is ${timestampNs} ns, ${behindMs} ms behind this node's clock; at most ${commandTimestampBehindMsMax} ms are allowed (commandTimestampBehindMsMax)`;
  }
  return undefined;
}

// ---- helpers ----

const kindFields = {
  createAccount: "create_account",
  createTransaction: "create_transaction",
  settleTransaction: "settle_transaction",
  cancelTransaction: "cancel_transaction",
} as const;

const notUtf8 = "is not valid UTF-8 (it contains a lone surrogate)";

function fieldRefusal(path: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : `${path} ${problem}`;
}

// With the `u` flag a well-formed surrogate pair is one astral code point, so only lone
// surrogates match: they cannot be encoded as UTF-8, so they cannot be stored or sent back.
const loneSurrogate = /\p{Surrogate}/u;

function hasLoneSurrogate(text: string): boolean {
  return loneSurrogate.test(text);
}

/** UTF-8 length of a well-formed string (no lone surrogates). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair: one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
