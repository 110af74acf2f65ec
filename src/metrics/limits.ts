// Histogram buckets of the metrics.

/** Histogram buckets of a synced write (one fsync for all shards) and of a turn's apply: an SSD
 * syncs in 0.1-2 ms, a disk or a loaded VM in tens of ms; past a second the node is in trouble. */
export const metricsDiskBucketsSeconds: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
/** Histogram buckets of a gRPC call: a local read takes well under a millisecond, a write an
 * fsync and a peer round trip, a retried or timed-out call up to its deadline (seconds). */
export const metricsCallBucketsSeconds: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Histogram buckets of log entries per synced write: powers of two through a busy turn's group
 * commit; the last near nodePendingProposalsMax, about all one turn can append. */
export const metricsWriteEntriesBuckets: readonly number[] = [
  0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 16384,
];
/** Histogram buckets of replicas (Raft groups) with a Ready per synced write: a node hosts one
 * replica of each of its shards, 16 in the default cluster. */
export const metricsWriteGroupsBuckets: readonly number[] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];
