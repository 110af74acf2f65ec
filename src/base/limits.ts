// Every limit of the system in one place, units last in the name, with the reason for each value.

/** Public API input limits (seed 001 / issue 2). */
export const descriptionBytesMax = 256; // enough for a payment reference, small enough to keep records tiny
export const requestIdCharsMax = 64; // fits a UUID or a ULID with a prefix
export const pageSizeDefault = 100;
export const pageSizeMax = 1000; // bounds the work and the reply size of one ListTransactions
export const accountIdHexChars = 16; // 8-byte account id
export const transactionIdHexChars = 32; // 8-byte account id + 8-byte local id

/** Client defaults. */
export const clientDeadlineMsDefault = 5_000; // a ledger call that takes longer than this is a failure to report
export const seedAccountsCountMax = 1_000_000; // keeps a mistyped --count from running for hours

/** Standalone server. */
export const standaloneQueueLengthMax = 10_000; // pending updates per process before RESOURCE_EXHAUSTED
export const grpcMessageBytesMax = 4 * 1024 * 1024; // grpc-js default; a max page is ~100 KB
