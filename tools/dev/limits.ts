// Limits and defaults of the dev CLI.

export const seedAccountsCountMax = 1_000_000; // keeps a mistyped --count from running for hours
/** In-flight CreateAccount calls: enough to keep a server busy, few enough not to flood it. */
export const seedConcurrencyDefault = 16;
export const seedConcurrencyMax = 256;
/** Runs shorter than this finish too fast for a bar to help. */
export const progressBarCountMin = 100;
/** Plain progress lines come at most this often. */
export const progressLineIntervalMs = 1_000;
/** `dev status`: how long one refresh waits for a node's ReplicaStates answer before showing it
 * down (a live node answers in milliseconds; a hung one must not stall the table). */
export const devStatusTimeoutMsDefault = 2_000;
export const devStatusTimeoutMsMax = 60_000;
/** `dev status --watch`: pause between refreshes; the floor keeps a typo from hammering nodes. */
export const devStatusIntervalMsDefault = 1_000;
export const devStatusIntervalMsMin = 100;
export const devStatusIntervalMsMax = 3_600_000;
