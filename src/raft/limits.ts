// The Raft core's own bounds, the defaults of its config fields. Units last in every name.

/** Payload bytes of committed entries handed to the application in one Ready: bounds one apply
 * batch's memory and the time one loop turn spends applying. */
export const committedEntriesBytesPerReadyMax = 8 * 1024 * 1024;
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
/** Refusals of peer messages a replica logs in full per reason; after that only the 32nd, 64th,
 * ... (with the count so far): a broken peer can send one on every heartbeat. */
export const raftRefusalsLoggedInFull = 16;
