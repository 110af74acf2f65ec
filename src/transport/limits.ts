// What a message on the wire may carry and how the transports pace themselves: gRPC message
// size, peer streams, snapshot chunks, call streams, strict decoding. Units last in every name.

import { assert } from "../base/assert.js";
export const grpcMessageBytesMax = 4 * 1024 * 1024; // grpc-js default; a max page is ~100 KB
export const raftMaxAppendBytes = 1024 * 1024;
/** Deadline for a node call whose caller gave none. */
export const nodeCallDeadlineMsDefault = 5_000;
/** First delay before reopening a failed peer stream: short, so a restarted peer is back within
 * a heartbeat or two. */
export const peerReconnectDelayMsMin = 100;
/** Cap of the doubling reconnect delay: a peer that is down for long is retried about twice a
 * second at most, cheap for us, and well inside an election timeout once it returns. */
export const peerReconnectDelayMsMax = 2_000;
/** A peer stream up at least this long counts as healthy: its next failure retries after the
 * minimum delay again. */
export const peerStreamStableMs = 5_000;
/** A stream the peer has not answered (response headers) within this long is given up and
 * reopened: a blackholed address would otherwise leave it pending with no error. */
export const peerConnectTimeoutMs = 3_000;
/** Pair bytes per snapshot chunk: big enough to amortise per-message cost (STACK.md: ~28 us a
 * stream message), small enough that a chunk in flight costs little memory. */
export const snapshotChunkBytesMax = 256 * 1024;
/** Ledger keys are at most 21 bytes after the replica prefix (src/storage/ledger-keys.ts). */
export const snapshotKeyBytesMax = 64;
/** Ledger records are a few hundred bytes; anything near this is corruption. */
export const snapshotValueBytesMax = 64 * 1024;
/** Snapshots one PeerSender streams to its peer at once: each holds a LevelDB iterator and a
 * chunk in memory, and the leader sends at most one per follower replica anyway. */
export const peerSnapshotsInFlightMax = 4;
/** Dropped-message warnings logged per peer stream; beyond this they are only counted, so a
 * misbehaving peer cannot flood the log. */
export const serverWarningsPerStreamMax = 10;
/** Entries one peer Append may carry. A leader sends at most raftMaxAppendBytes of payload per
 * append and every proposal entry carries at least a 13-byte header (src/node/proposal-envelope.ts;
 * only a new term's no-op is empty), so an honest append has fewer than raftMaxAppendBytes / 8
 * entries; a broken peer cannot turn one 4 MiB batch into millions of objects. */
export const raftEntriesPerMessageMax = raftMaxAppendBytes / 8;
/** Nesting of messages a request's bytes are searched to this depth for strings that are not
 * valid UTF-8 (to name the field, e.g. transactions[1].description); protobuf-es decodes to the
 * same depth (its recursionLimit), and our requests nest two deep. */
export const requestNestingMax = 100;
/** Calls a gateway keeps in flight on its one Calls stream to a node (queued, written, or
 * awaiting their reply); one more is refused at once with RESOURCE_EXHAUSTED (applied=no) and
 * the gateway pauses before retrying. Far above the concurrency a gateway sees (each call is
 * one client request), low enough that a stuck node holds a bounded amount of memory. */
export const gatewayStreamCallsInFlightMax = 4_096;
/** Request bytes a gateway keeps in flight on one Calls stream (counted like the calls above);
 * a call that would pass it is refused at once with RESOURCE_EXHAUSTED (applied=no). A batched
 * proposal can be ~600 KB, so the count alone would let a stuck node hold gigabytes; this is
 * ~100 of the largest or thousands of ordinary calls. */
export const gatewayStreamBytesInFlightMax = 64 * 1024 * 1024;
/** The longest delay setTimeout honours (2^31-1 ms, ~24.8 days): a longer one fires after 1 ms
 * with a TimeoutOverflowWarning, so call-deadline timers are armed for at most this long. */
export const timerDelayMsMax = 2 ** 31 - 1;
/** Calls a node runs at once for one Calls stream (accepted and not yet answered); more get
 * RESOURCE_EXHAUSTED (applied=no) at once. Matches the gateway's bound, so an honest gateway
 * never meets it; a node serves a handful of gateways. */
export const nodeStreamCallsInFlightMax = 4_096;
/** A batch of calls or replies is cut into stream messages of at most this many bytes, half
 * the gRPC message limit so framing and estimates never push one over it. */
export const callStreamMessageBytesMax = grpcMessageBytesMax / 2;
/** Unknown groups (the deprecated proto2 group wire form) nested in one another in a request.
 * None of our schemas nor the health and reflection ones has a group, so one only comes from a
 * client built on a newer schema, where real groups nest a level or two. The wire check walks
 * them without recursion, but the decoders after it (protobuf-es, protobufjs) skip groups
 * recursively, within protobuf-es's recursion limit of 100 shared with message nesting. */
export const unknownGroupNestingMax = 32;
/** A wire check error names a field by at most this many path segments from it upwards
 * ("…child.child.flag"): our requests nest two deep, and a path through a hundred recursive
 * messages or 32 unknown groups would otherwise make the message kilobytes long. */
export const wirePathSegmentsShownMax = 6;

// Relations the values above must keep, checked when the module loads.
assert(raftMaxAppendBytes < grpcMessageBytesMax, "the largest Raft append fits one peer message");
assert(callStreamMessageBytesMax < grpcMessageBytesMax, "a call-stream message fits one gRPC message");
assert(snapshotChunkBytesMax < grpcMessageBytesMax, "a snapshot chunk fits one gRPC message");
assert(
  snapshotKeyBytesMax + snapshotValueBytesMax <= snapshotChunkBytesMax,
  "the largest snapshot pair fits one chunk",
);
assert(peerReconnectDelayMsMin <= peerReconnectDelayMsMax, "the reconnect delay's floor is below its cap");
assert(
  gatewayStreamBytesInFlightMax >= callStreamMessageBytesMax,
  "one full call-stream message fits the bytes in flight",
);
