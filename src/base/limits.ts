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

/** Standalone engine. */
/** Commands per group commit: enough to amortise one fsync over many callers (STACK.md: 633k
 * entries/s in batches of 1000), small enough to bound one batch's memory and latency. */
export const localBatchCommandsMax = 1_000;
/** Shard keys remembered for recently used accounts: SHA-256 is about 1.6 us and a command
 * builds several keys of one account. Bounded so memory stays flat; a full cache is dropped
 * wholesale (cheap, and hot accounts come back at once). */
export const shardKeyCacheEntriesMax = 16_384;
/** How long shutdown lets in-flight calls finish before cancelling them. */
export const shutdownGraceMsDefault = 5_000;

/** Dev CLI. */
/** In-flight CreateAccount calls: enough to keep a server busy, few enough not to flood it. */
export const seedConcurrencyDefault = 16;
export const seedConcurrencyMax = 256;
/** Runs shorter than this finish too fast for a bar to help. */
export const progressBarCountMin = 100;
/** Plain progress lines come at most this often. */
export const progressLineIntervalMs = 1_000;

/** Generated cluster configs: far beyond what one machine runs, small enough to catch typos. */
export const generatedNodesMax = 256;
export const generatedShardsMax = 4096;

/** Raft core. */
/** Payload bytes of committed entries handed to the application in one Ready: bounds one apply
 * batch's memory and the time one loop turn spends applying. */
export const committedEntriesBytesPerReadyMax = 8 * 1024 * 1024;
