// The gateway's timings and bounds: deadlines, retries and backoff toward the nodes, the
// status page, id pools and open calls. Units last in every name.

import { assert } from "../base/assert.js";
/** How long shutdown lets in-flight calls finish before cancelling them. */
export const shutdownGraceMsDefault = 5_000;
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
/** A node call the gateway gives up and sends elsewhere when it has no answer: longer than a
 * busy leader's queue (tens of ms) and about one election timeout, so a paused leader costs a
 * call this much rather than its whole deadline. */
export const gatewayAttemptTimeoutMs = 1_500;
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
/** The gateway draws random ids from a CSPRNG pool refilled this many bytes at a time (512
 * ids): a 4 KiB refill costs about what one small draw does. */
export const randomIdPoolBytes = 4_096;
/** Calls of the methods anyone may call (health, reflection) open at once on a public server;
 * more are refused with RESOURCE_EXHAUSTED. A Watch or reflection stream stays open as long as
 * its client wants (each ~10 KB), so without a bound one client without a key could hold
 * gigabytes; load balancers and tools need a handful. */
export const openCallsMax = 1_000;
/** The longest the gateway keeps retrying one call, whatever the caller's deadline: well inside
 * commandTimestampBehindMsMax (less the skew), so a retried command is never refused as old. */
export const gatewayDeadlineMsMax = 120_000;

// Relations the values above must keep, checked when the module loads.
assert(gatewayBackoffBaseMs <= gatewayBackoffCapMs, "the backoff's base is below its cap");
assert(gatewayReconnectBackoffInitialMs <= gatewayReconnectBackoffMaxMs, "the reconnect backoff starts below its cap");
assert(gatewayAttemptTimeoutMs < gatewayDeadlineDefaultMs, "a call has time for more than one attempt");
assert(gatewayDeadlineDefaultMs <= gatewayDeadlineMsMax, "the default deadline is an allowed one");
assert(
  gatewayAnswerMarginFraction > 0 && gatewayAnswerMarginFraction < 1,
  "the answer margin is part of the time left",
);
