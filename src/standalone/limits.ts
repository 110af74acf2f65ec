// Limits of the standalone engine.

export const standaloneQueueLengthMax = 10_000; // pending updates per process before RESOURCE_EXHAUSTED
/** Commands per group commit: enough to amortise one fsync over many callers (STACK.md: 633k
 * entries/s in batches of 1000), small enough to bound one batch's memory and latency. */
export const localBatchCommandsMax = 1_000;
