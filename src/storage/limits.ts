// Limits of the storage layer's reads.

/** Stored entries read per iterator step when a replica's log is loaded at start. */
export const replicaLogLoadEntriesPerStep = 1_000;
/** Records an apply prefetch reads synchronously (getSync, ~2.5 us each when cached) before it
 * switches to one asynchronous getMany (~50 us of CPU per call, whatever its size): below this
 * the sync reads are cheaper, above it a cold read must not hold the event loop for long. */
export const ledgerPrefetchSyncKeysMax = 64;
/** Account records each ledger state keeps decoded in memory (its hot accounts, least recently
 * used out first): about 200 bytes each, so a node with 16 replicas holds at most ~13 MB. A hit
 * saves a LevelDB read and a decode per transaction on every replica. */
export const ledgerHotAccountsMax = 4_096;
/** Heap bytes of one in-memory log entry besides its payload (the entry object, its Uint8Array
 * and ArrayBuffer headers): counted so that a log of many tiny entries is not taken as free. */
export const replicaLogEntryOverheadBytes = 160;
