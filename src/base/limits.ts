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

/** Cluster node (issue 4). */
/** Raft tick: heartbeats every tick, elections after 10-20 ticks (1-2 s): slow enough not to
 * flap on a noisy 2-core machine running three nodes, fast enough to fail over in seconds. */
export const nodeTickMsDefault = 100;
export const nodeElectionTicks = 10;
export const nodeHeartbeatTicks = 1;
/** Appends in flight per follower and bytes per append: pipelining without flooding a slow peer. */
export const raftMaxInflightAppends = 256;
export const raftMaxAppendBytes = 1024 * 1024;
/** A leader stops taking proposals beyond this uncommitted tail (RESOURCE_EXHAUSTED). */
export const raftMaxUncommittedBytes = 64 * 1024 * 1024;
/** Forwarding a proposal follower -> leader happens once; a second hop means stale leader
 * knowledge somewhere, and the caller (gateway) is better placed to retry. */
export const nodeForwardHopsMax = 1;
/** Waiting proposals and reads per node; beyond these, RESOURCE_EXHAUSTED instead of memory. */
export const nodePendingProposalsMax = 20_000;
export const nodePendingReadsMax = 20_000;
/** Peer messages queued for the loop; beyond this they are dropped (Raft retransmits). */
export const nodeInboxMessagesMax = 100_000;
/** A ReadIndex that is not confirmed in this time is answered UNAVAILABLE (safe to retry). */
export const readIndexTimeoutMs = 3_000;
/** Deadline for a node call whose caller gave none. */
export const nodeCallDeadlineMsDefault = 5_000;
/** Log compaction: once a replica's in-memory log holds more than this many entries, it
 * snapshots its applied state and drops entries up to `raftLogCatchUpEntries` behind it, so a
 * follower slightly behind still catches up from the log instead of by snapshot. */
export const raftLogEntriesBeforeCompaction = 20_000;
export const raftLogCatchUpEntries = 5_000;
/** Bounds of the node's --compact-after-entries: below the minimum a node would compact (and
 * send snapshots) almost every turn. It keeps a quarter of the threshold for catching up. */
export const raftLogEntriesBeforeCompactionMin = 100;
export const raftLogEntriesBeforeCompactionMax = 10_000_000;
export const raftLogCatchUpFraction = 0.25;
/** Ticks after start at which preferred replicas without a known leader stand for election:
 * long enough for the peer streams of nodes started together to connect (about 0.2-0.3 s
 * measured with `npm start`), shorter than an election timeout. */
export const startupCampaignTicks = 5;
/** Leadership is moved back to a shard's preferred replica at most this often. */
export const leaderBalanceIntervalTicks = 30;
/** How long a leader waits for an outbound snapshot to be accepted. */
export const snapshotSendTimeoutMs = 60_000;
/** A receive not finished after this long is dropped (longer than any honest sender's deadline). */
export const snapshotReceiveTimeoutMs = snapshotSendTimeoutMs + 10_000;

/** Node-to-node Raft transport. */
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

/** Cluster gateway retries. */
/** Deadline of a backend call whose caller gave none: a ledger call slower than this is a
 * failure to report, the same budget as the client's default (clientDeadlineMsDefault). */
export const gatewayDeadlineDefaultMs = 5_000;
/** NOT_LEADER hints followed at once, without a pause, between two backoffs of one call. Two
 * nodes with stale views can point at each other; past this many hops the call treats a hint
 * as "no leader known" and waits before trying again. */
export const gatewayLeaderHintFollowsMax = 3;
/** First retry pause after every replica of a shard failed once: an election on loopback takes
 * a few hundred milliseconds, a busy leader clears its queue in a few. */
export const gatewayBackoffBaseMs = 20;
/** Longest pause between two rounds of attempts: keeps a recovered shard from waiting long. */
export const gatewayBackoffCapMs = 500;
/** Caps grpc-js's reconnect backoff to a down node (its default grows to 120 s): a restarted
 * node gets traffic again within about this long. */
export const gatewayReconnectBackoffMaxMs = 1_000;
export const gatewayReconnectBackoffInitialMs = 100;
/** The gateway stops retrying this much before the caller's deadline (at most the Max, else the
 * fraction of the time left) so its explanatory error arrives before the caller times out. */
export const gatewayAnswerMarginMsMax = 250;
export const gatewayAnswerMarginFraction = 0.1;
/** Dropped-message warnings logged per peer stream; beyond this they are only counted, so a
 * misbehaving peer cannot flood the log. */
export const serverWarningsPerStreamMax = 10;
/** Stored entries read per iterator step when a replica's log is loaded at start. */
export const replicaLogLoadEntriesPerStep = 1_000;
/** Peer message bytes queued for the loop; beyond this they are dropped like a full inbox. */
export const nodeInboxBytesMax = 64 * 1024 * 1024;
/** Append payload bytes in flight to one follower: with 16 shards a catching-up peer cannot make
 * the leader buffer more than 16 x this. */
export const raftMaxInflightBytes = 8 * 1024 * 1024;
/** A replica's in-memory log is also compacted when its payload passes this many bytes. */
export const raftLogBytesBeforeCompaction = 64 * 1024 * 1024;
/** Entries one peer Append may carry. A leader sends at most raftMaxAppendBytes of payload per
 * append and every proposal entry carries at least a 13-byte header (src/node/proposal-envelope.ts;
 * only a new term's no-op is empty), so an honest append has fewer than raftMaxAppendBytes / 8
 * entries; a broken peer cannot turn one 4 MiB batch into millions of objects. */
export const raftEntriesPerMessageMax = raftMaxAppendBytes / 8;
/** A node call the gateway gives up and sends elsewhere when it has no answer: longer than a
 * busy leader's queue (tens of ms) and about one election timeout, so a paused leader costs a
 * call this much rather than its whole deadline. */
export const gatewayAttemptTimeoutMs = 1_500;
/** Warnings about dropped peer messages are logged at most this often (with a count). */
export const droppedMessageLogIntervalMs = 5_000;

// ---- operations (issue 7): each part adds its limits under its own heading ----

// -- health and reflection --
/** A node recomputes its health (every replica caught up and knowing a leader) this often: a
 * walk over its replicas' in-memory role and leader (no DB read), cheap enough for every tick. */
export const nodeHealthIntervalMs = 100;

// -- metrics --
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

// -- graceful shutdown --
/** A stopping node waits at most this long for its shards' leadership to move to caught-up
 * followers: a transfer takes a round trip or two when a follower is caught up, and an
 * election timeout (1-2 s) when it has to catch up first; longer only delays the exit of a node
 * whose peers are down anyway. */
export const nodeDrainMsMax = 5_000;
/** While draining, the node looks again for shards it still leads this often (a transfer that
 * timed out, a follower that was not recently active, a leadership that came back). */
export const nodeDrainPollMs = 100;
/** In-flight node calls get this long to end once a stopping node refuses new ones (their own
 * deadlines are usually shorter). */
export const nodeCallsGraceMs = 3_000;

// -- status command and status page --
/** `dev status`: how long one refresh waits for a node's ReplicaStates answer before showing it
 * down (a live node answers in milliseconds; a hung one must not stall the table). */
export const devStatusTimeoutMsDefault = 2_000;
export const devStatusTimeoutMsMax = 60_000;
/** `dev status --watch`: pause between refreshes; the floor keeps a typo from hammering nodes. */
export const devStatusIntervalMsDefault = 1_000;
export const devStatusIntervalMsMin = 100;
export const devStatusIntervalMsMax = 3_600_000;
/** The operations HTTP server (metrics, status page) answers a request within this long. */
export const opsHttpRequestTimeoutMs = 10_000;
/** Request bodies are not expected on the operations server; anything longer is refused. */
export const opsHttpHeadersTimeoutMs = 5_000;
/** The status page's ReplicaStates call to one node: a live node on a LAN answers in
 * milliseconds even when busy, so a node silent this long is shown down rather than making
 * every page refresh wait for it. */
export const statusNodeCallTimeoutMs = 1_000;
/** /status.json reuses gathered node states this long: any number of open pages (each polling
 * every second) cost the nodes at most one ReplicaStates call each per this interval. */
export const statusCacheMs = 500;
/** The page asks for /status.json this often. */
export const statusPageRefreshMs = 1_000;
/** Request rates are averaged over this many seconds (one bucket per second): long enough to
 * smooth a bursty client, short enough that a stop shows within a few refreshes. */
export const requestRateWindowSeconds = 5;
/** Distinct method names counted per second; more (only a misbehaving caller could produce
 * them) are counted under "other" so the window's memory stays bounded. */
export const requestRateMethodsMax = 32;
/** A down node's error as shown on the status page and by `dev status` is cut to this many
 * characters. */
export const statusReasonCharsMax = 160;

// ---- benchmark (issue 6): npm run bench ----

/** Accounts the run spreads its transactions over; the ceiling keeps a typo from a setup that
 * takes hours (each account costs two writes before the run starts). */
export const benchAccountsDefault = 10_000;
export const benchAccountsMax = 1_000_000;
/** Concurrent clients, each with one request in flight. */
export const benchClientsDefault = 64;
export const benchClientsMax = 4_096;
/** gRPC channels (LedgerClient instances) the clients share; see the README's bench section for
 * the measurement behind the choice. */
export const benchChannelsDefault = 1;
/** Measured window and warm-up, in seconds. */
export const benchDurationSDefault = 10;
export const benchDurationSMax = 3_600;
export const benchWarmupSDefault = 2;
export const benchWarmupSMax = 600;
/** The initial settled topup of every account, in minor units: about 20 purchases deep at the
 * mean purchase of 25, so both outcomes (applied and INSUFFICIENT_FUNDS) occur in a run. */
export const benchInitialTopupUnits = 1_000n;
/** Amounts drawn uniformly from this inclusive range, zero excluded. */
export const benchAmountMinUnits = -50;
export const benchAmountMaxUnits = 100;
/** Setup and balance-check calls in flight: enough to keep a cluster busy, few enough that a
 * slow cluster answers each within the client deadline. */
export const benchSetupConcurrency = 64;
/** How long one setup call is retried (with its request id) while the cluster is busy or
 * electing: a loaded machine can hold a call past its deadline now and then. */
export const benchSetupRetryMs = 60_000;
/** Shards of the bench's own cluster, and the replication factor (3 nodes, so at most 3). */
export const benchShardsDefault = 16;
export const benchNodes = 3;
export const benchReplicationFactorDefault = 3;
/** How long the bench's own cluster may take to start and elect a leader for every shard:
 * several tsx processes starting at once on a busy 2-core machine take tens of seconds. */
export const benchClusterStartMsMax = 90_000;
/** Interval between admin polls while waiting for leaders. */
export const benchLeaderPollMs = 200;
/** A stopped process gets this long after SIGTERM (a node hands off leadership and closes its
 * DB) before SIGKILL. */
export const benchStopGraceMs = 10_000;
/** Latencies are recorded in microseconds up to this value (a minute); longer ones (none can
 * be, with a 5 s client deadline) are clamped so the histogram stays bounded. */
export const benchLatencyUsMax = 60_000_000;
/** Mismatching accounts listed in the report (the count is always complete). */
export const benchMismatchesListedMax = 5;
/** Page size of the balance check's ListTransactions calls (the API's maximum). */
export const benchListPageSize = 1_000;
/** Lines of each process log shown on stderr when the bench's cluster fails. */
export const benchLogTailLines = 20;

// -- apply path and per-request costs (issue 6) --
/** The gateway draws random ids from a CSPRNG pool refilled this many bytes at a time (512
 * ids): a 4 KiB refill costs about what one small draw does. */
export const randomIdPoolBytes = 4_096;
/** Records an apply prefetch reads synchronously (getSync, ~2.5 us each when cached) before it
 * switches to one asynchronous getMany (~50 us of CPU per call, whatever its size): below this
 * the sync reads are cheaper, above it a cold read must not hold the event loop for long. */
export const ledgerPrefetchSyncKeysMax = 64;

// -- batched transactions --
/** Items of one CreateTransactions call: enough to amortise a call's fixed cost (one gRPC call,
 * one proposal per shard) to a few percent, small enough that the largest call (~600 bytes an
 * item at the field limits) stays far below grpcMessageBytesMax and one proposal entry. */
export const createTransactionsItemsMax = 1_000;
/** Bytes of one proposal's log entry (a batch of commands, or one): one entry fits one append
 * (raftMaxAppendBytes), and an append carrying it fits a peer message (grpcMessageBytesMax) with
 * room to spare. A larger batch could never be replicated, so it is refused before the log. */
export const proposalEntryBytesMax = raftMaxAppendBytes;
/** Nesting of messages a request's bytes are searched to this depth for strings that are not
 * valid UTF-8 (to name the field, e.g. transactions[1].description); protobuf-es decodes to the
 * same depth (its recursionLimit), and our requests nest two deep. */
export const requestNestingMax = 100;

// -- gateway-node call streams --
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

// -- transport security and API keys (issue 12) --
/** Certificates start being valid this long before they are made, so a peer whose clock is a
 * little behind the issuer's does not refuse a fresh one (Kerberos allows the same skew). */
export const certClockSkewMs = 5 * 60_000;
/** How often a process looks at its certificate, key and CA files for a rotation: a stat of
 * three files, cheap; a rotated certificate is in use for new connections within this long. */
export const certReloadPollMs = 1_000;
/** A process logs a warning at start and at each reload when its certificate expires sooner. */
export const certExpiryWarningDays = 30;
/** Validity of what `dev secrets init` and `dev certs issue` make: a development CA outlives
 * the clusters it is used for; principal certificates are meant to be rotated yearly. */
export const devCaValidDays = 3_650;
export const devCertValidDaysDefault = 365;
export const devCertValidDaysMax = 3_650;
/** A PEM file (certificate chain, key or CA bundle) larger than this is not one. */
export const tlsFileBytesMax = 1024 * 1024;
/** How often the gateway looks at the API keys file: a revoked key is refused within this plus
 * the time to read the file, well inside the second the issue promises. */
export const apiKeysReloadPollMs = 250;
/** scrypt cost of a stored API key hash: N=2^12, r=8 (4 MiB, ~8 ms here). A key's secret is
 * 256 random bits, so no hash cost makes guessing it from a leaked keys file any harder than it
 * already is; scrypt is defense in depth, and a low cost keeps a flood of made-up secrets cheap
 * (each unverified presentation costs one). Paid once per key and process, after which a
 * verified key is held as a SHA-256 digest. Stored per key, so older keys keep their cost. */
export const apiKeyScryptN = 4_096;
export const apiKeyScryptR = 8;
export const apiKeyScryptP = 1;
export const apiKeyHashBytes = 32;
export const apiKeySaltBytes = 16;
/** scrypt runs on the libuv pool (4 threads): bounding concurrent verifications keeps a flood
 * of made-up keys from starving LevelDB and file I/O of that pool. */
export const apiKeyVerificationsInFlightMax = 2;
/** Wrong secrets presented for one key id within apiKeyWrongSecretsWindowMs before that id is
 * refused without a scrypt until the window ends: whoever knows a key id (ids are not secret:
 * logs and errors name them) can otherwise make the gateway run a scrypt per made-up secret
 * and keep every key not yet verified waiting behind them. A verified key keeps working. */
export const apiKeyWrongSecretsMax = 8;
export const apiKeyWrongSecretsWindowMs = 60_000;
/** Calls of the methods anyone may call (health, reflection) open at once on a public server;
 * more are refused with RESOURCE_EXHAUSTED. A Watch or reflection stream stays open as long as
 * its client wants (each ~10 KB), so without a bound one client without a key could hold
 * gigabytes; load balancers and tools need a handful. */
export const openCallsMax = 1_000;
/** Digests of presented keys that failed verification, remembered so a client that keeps
 * sending the same wrong key costs one scrypt, not one per call. */
export const apiKeyRejectedCacheEntriesMax = 1_024;
/** Keys one keys file may hold (revoked ones included), and its size: bounds what a reload
 * parses; thousands of keys are far beyond a ledger's callers. */
export const apiKeysMax = 10_000;
export const apiKeysFileBytesMax = 4 * 1024 * 1024;
/** The `authorization` value is "Bearer " and a key of ~70 characters; longer is not one of ours. */
export const authorizationValueCharsMax = 256;

// -- strict decoding (issue 12) --
/** Unknown groups (the deprecated proto2 group wire form) nested in one another in a request.
 * None of our schemas nor the health and reflection ones has a group, so one only comes from a
 * client built on a newer schema, where real groups nest a level or two. The wire check walks
 * them without recursion, but the decoders after it (protobuf-es, protobufjs) skip groups
 * recursively, within protobuf-es's recursion limit of 100 shared with message nesting. */
export const unknownGroupNestingMax = 32;
/** Characters (after JSON escaping) of client or peer input an error message quotes. Every
 * valid id is at most 64 characters (request ids, config node and shard ids), so a valid value
 * is quoted whole and the start of a longer one is enough to recognise it; an error message then
 * stays a few hundred bytes, far below the 8 KiB of trailers a standard client accepts. */
export const quotedInputCharsMax = 64;
/** A health Check or Watch for a longer service name is refused with INVALID_ARGUMENT: a fully
 * qualified gRPC service name is a package path and a name (ours: 24 characters), and Watch
 * keeps each name asked for as a key while its stream lasts. */
export const healthServiceNameCharsMax = 256;
/** A wire check error names a field by at most this many path segments from it upwards
 * ("…child.child.flag"): our requests nest two deep, and a path through a hundred recursive
 * messages or 32 unknown groups would otherwise make the message kilobytes long. */
export const wirePathSegmentsShownMax = 6;

// -- peer input and command validation (issue 12) --
/** The highest Raft term a replica accepts from a peer or campaigns in. At one election per
 * millisecond (a thousand times faster than the node's 1 s election timeout allows) one would need
 * 8,900 years to reach it, so nothing legitimate gets near; and it sits 32x below 2^53, so a
 * term near the integer limit (which no election could follow: the wire refuses terms above
 * 2^53-1) is refused instead of adopted. */
export const raftTermMax = 2 ** 48;
/** How far beyond its own term one peer message may take a replica's term: 10,000 elections,
 * hours of continuous elections at one per election timeout (1-2 s), so a replica that was away
 * through any ordinary failure rejoins at once. A replica that was away longer rejoins once its
 * term credit (one term per election timeout of its own ticks while peers are ahead of it; see
 * src/raft/term-guard.ts) covers the gap. A forged message can move a term at most this much,
 * and the credit it spends comes back no faster than elections could use it. */
export const raftTermJumpMax = 10_000;
/** A proposed command's timestamp (Unix ns, stamped by the gateway) may be at most this far
 * ahead of the node's clock: clock skew between the gateway's host and the node's (NTP keeps it
 * within milliseconds; a VM after a pause may be seconds off). */
export const commandTimestampAheadMsMax = 60_000;
/** ... and at most this far behind it: the skew plus how long the gateway may keep retrying the
 * same bytes for one call (until the caller's deadline; 5 s by default). A longer-lived retry is
 * refused with INVALID_ARGUMENT (applied=no) and the client retries with the same request_id. */
export const commandTimestampBehindMsMax = 600_000;
/** The longest the gateway keeps retrying one call, whatever the caller's deadline: well inside
 * commandTimestampBehindMsMax (less the skew), so a retried command is never refused as old. */
export const gatewayDeadlineMsMax = 120_000;
/** Refusals of peer messages a replica logs in full per reason; after that only the 32nd, 64th,
 * ... (with the count so far): a broken peer can send one on every heartbeat. */
export const raftRefusalsLoggedInFull = 16;
