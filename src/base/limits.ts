// The few limits below every layer (logging and quoting). Each layer keeps its own in its
// limits.ts, units last in every name, with the reason for each value.

/** Warnings about dropped peer messages are logged at most this often (with a count). */
export const droppedMessageLogIntervalMs = 5_000;
/** Characters (after JSON escaping) of client or peer input an error message quotes. Every
 * valid id is at most 64 characters (request ids, config node and shard ids), so a valid value
 * is quoted whole and the start of a longer one is enough to recognise it; an error message then
 * stays a few hundred bytes, far below the 8 KiB of trailers a standard client accepts. */
export const quotedInputCharsMax = 64;
