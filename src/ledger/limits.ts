// Limits of the ledger's public inputs and rules: what a request may carry and what a command
// may claim. Units last in every name.

import { assert } from "../base/assert.js";
export const descriptionBytesMax = 256; // enough for a payment reference, small enough to keep records tiny
export const requestIdCharsMax = 64; // fits a UUID or a ULID with a prefix
export const pageSizeDefault = 100;
export const pageSizeMax = 1000; // bounds the work and the reply size of one ListTransactions
export const accountIdHexChars = 16; // 8-byte account id
export const transactionIdHexChars = 32; // 8-byte account id + 8-byte local id
/** Items of one CreateTransactions call: enough to amortise a call's fixed cost (one gRPC call,
 * one proposal per shard) to a few percent, small enough that the largest call (~600 bytes an
 * item at the field limits) stays far below grpcMessageBytesMax and one proposal entry. */
export const createTransactionsItemsMax = 1_000;
/** A proposed command's timestamp (Unix ns, stamped by the gateway) may be at most this far
 * ahead of the node's clock: clock skew between the gateway's host and the node's (NTP keeps it
 * within milliseconds; a VM after a pause may be seconds off). */
export const commandTimestampAheadMsMax = 60_000;
/** ... and at most this far behind it: the skew plus how long the gateway may keep retrying the
 * same bytes for one call (until the caller's deadline; 5 s by default). A longer-lived retry is
 * refused with INVALID_ARGUMENT (applied=no) and the client retries with the same request_id. */
export const commandTimestampBehindMsMax = 600_000;

// Relations the values above must keep, checked when the module loads.
assert(pageSizeDefault <= pageSizeMax, "the default page is an allowed one");
assert(commandTimestampAheadMsMax < commandTimestampBehindMsMax, "retries of old bytes get more room than skew ahead");
