// Snapshots between replicas of a shard.
//
// Sending (leader): Raft asks for a snapshot when a follower needs entries the log no longer
// has. The node sends its CURRENT applied state, read through a LevelDB snapshot taken right
// after the loop's write (so it is exactly the state at the applied index), and labels the
// message with that index and its term instead of the older compaction point: any applied
// index is committed, so this is as safe and saves a second transfer (etcd does the same).
//
// Receiving (follower): the pairs are written under the replica's next generation prefix
// (staging, synced per chunk, so the data is durable before Raft's synced install batch). When
// the stream's trailer checks out, the loop steps the MsgSnap; if Raft installs it, the install
// batch switches the generation atomically with the log, hard state and applied index; if not
// (stale), the staged data is dropped. Older generations are cleared after the switch and at
// every start, so a crash at any point leaves one consistent state.

import { LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import { snapshotReceiveTimeoutMs, snapshotSendTimeoutMs } from "./limits.js";
import { prefixRange } from "../storage/ledger-keys.js";
import type { DbWriter } from "../storage/db-writer.js";
import { ledgerPrefix } from "../storage/replica-keys.js";
import { MessageType, type Message } from "../raft/index.js";
import { missingLiveStateRefusal, snapshotMetadataRefusal } from "./snapshot-checks.js";
import type { ClusterConfig, NodeId } from "../cluster/config.js";
import type { ReplicaId } from "../raft/index.js";
import type { PeerTransport } from "../transport/peer-transport.js";
import type { LedgerDb } from "../storage/ledger-store.js";
import type { Clock } from "../base/clock.js";
import type { Replica } from "./replica.js";

/** What snapshot transfers need of the node around them (the node host provides it). */
export interface SnapshotTransfersHost {
  readonly nodeId: NodeId;
  readonly config: ClusterConfig;
  readonly nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>;
  readonly transport: PeerTransport;
  readonly db: LedgerDb;
  /** The replica of `shardId` here; throws a LedgerError naming the shard when there is none. */
  replicaOf(shardId: string): Replica;
  /** Runs `fn` inside the node's next loop turn. */
  enqueue(fn: () => void): void;
  readonly clock: Clock;
  /** Steps a message into a replica, as the loop does with peers' messages. */
  stepSafely(r: Replica, m: Message): void;
}

const generationLimit = 2 ** 32;

export interface SnapshotSink {
  write(pairs: { key: Uint8Array; value: Uint8Array }[]): Promise<void>;
  commit(): Promise<void>;
  abort(reason: string): Promise<void>;
}

export class SnapshotTransfers {
  private readonly sending = new Set<AbortController>();
  private readonly receiving = new Set<Replica>();
  /** Per replica: the generation an incoming snapshot is staged under, once its MsgSnap was
   * stepped in the current turn; `installed` once Raft installed it from there. */
  private readonly staged = new Map<Replica, { generation: number; installed: boolean }>();

  constructor(
    private readonly host: SnapshotTransfersHost,
    private readonly writer: DbWriter,
    private readonly logger: Logger,
  ) {}

  /** Called by the loop after its write, when the DB holds exactly the applied state. */
  send(r: Replica, m: Message): void {
    const db = this.host.db;
    const index = r.applied;
    const message: Message = {
      ...m,
      snapshot: {
        metadata: { index, term: r.log.term(index), confState: r.log.snapshotMetadata().confState },
        data: new Uint8Array(0),
      },
    };
    const prefix = ledgerPrefix(r.replicaId, r.log.generation());
    const dbSnapshot = db.snapshot();
    const controller = new AbortController();
    this.sending.add(controller);
    const to = this.host.nodeOfReplica.get(m.to) ?? "";
    async function* pairs() {
      for await (const [key, value] of db.iterator({ ...prefixRange(prefix), snapshot: dbSnapshot }))
        yield { key: key.subarray(prefix.length), value };
    }
    this.logger.info({ shard: r.shard.id, to, index }, "sending snapshot");
    const started = this.host.clock.nowMs();
    this.host.transport
      .sendSnapshot(to, {
        shardId: r.shard.id,
        message,
        pairs: pairs(),
        signal: controller.signal,
        deadlineMs: this.host.clock.nowMs() + snapshotSendTimeoutMs,
      })
      .then(
        () => {
          this.logger.info({ shard: r.shard.id, to, index, ms: this.host.clock.nowMs() - started }, "snapshot sent");
          this.host.enqueue(() => r.raw.reportSnapshot(m.to, true));
        },
        (e: unknown) => {
          this.logger.warn({ shard: r.shard.id, to, index, err: String(e) }, "snapshot send failed");
          this.host.enqueue(() => r.raw.reportSnapshot(m.to, false));
        },
      )
      .finally(() => {
        this.sending.delete(controller);
        dbSnapshot.close().catch(() => undefined);
      });
  }

  /** The transport's receiving side of an InstallSnapshot stream. */
  begin(fromNodeId: string, shardId: string, message: Message): SnapshotSink {
    const r = this.host.replicaOf(shardId);
    const members = r.shard.replicas.map((x) => x.id);
    if (
      message.type !== MessageType.Snapshot ||
      message.snapshot === undefined ||
      message.to !== r.replicaId ||
      !members.includes(message.from) ||
      this.host.nodeOfReplica.get(message.from) !== fromNodeId
    ) {
      throw new LedgerError(
        "INVALID_ARGUMENT",
        `header.message is not a snapshot for replica ${r.replicaId} of ${shardId} from a replica of ${shardId} on ${fromNodeId}`,
      );
    }
    // The membership may have changed (voters demoted to learners and back), but only among the
    // shard's replicas: every member is one of them, none twice, and some voter is left.
    const { voters, learners } = message.snapshot.metadata.confState;
    const named = [...voters, ...learners];
    if (voters.length === 0 || new Set(named).size !== named.length || !named.every((v) => members.includes(v))) {
      throw new LedgerError(
        "INVALID_ARGUMENT",
        `header.message.snapshot.metadata.conf_state voters [${voters.join(", ")}] and learners [${learners.join(", ")}] are not distinct replicas of ${shardId} [${members.join(", ")}] with a voter`,
      );
    }
    // Its metadata must agree with our log before a byte of it is staged.
    const metadataRefusal = snapshotMetadataRefusal(r.log, message);
    if (metadataRefusal !== undefined) throw metadataRefusal;
    if (this.receiving.has(r))
      throw new LedgerError("FAILED_PRECONDITION", `${shardId}: a snapshot is already being received`);
    const generation = r.log.generation() + 1;
    // Four billion snapshot installs on one replica: not reachable; refuse rather than wrap.
    if (generation >= generationLimit)
      throw new LedgerError(
        "FAILED_PRECONDITION",
        `${shardId}: replica ${r.replicaId} has used every ledger generation`,
      );
    this.receiving.add(r);
    const prefix = ledgerPrefix(r.replicaId, generation);
    const db = this.host.db;
    const cleared = this.writer.clear(prefixRange(prefix));
    // Awaited by the first chunk's write; a failure before that stops the node (DbWriter) and
    // must not also surface as an unhandled rejection.
    cleared.catch(() => undefined);
    let pairs = 0;
    let committing = false;
    let timedOut = false;
    /** Refused at commit and already cleaned up: a later abort has nothing left to do. */
    let refused = false;
    // A peer that opens a receive and then stalls (no deadline of its own) must not block every
    // later snapshot for this replica: give the receive up after a bound.
    const cancelTimer = this.host.clock.after(snapshotReceiveTimeoutMs, () => {
      if (committing) return;
      timedOut = true;
      this.logger.warn({ shard: shardId, from: fromNodeId, pairs }, "snapshot receive timed out; dropping it");
      finish();
      this.writer
        .clear(prefixRange(prefix))
        .catch((e: unknown) =>
          this.logger.warn({ err: String(e) }, "clearing a timed-out staging failed; retried at next start"),
        );
    });
    const finish = () => {
      cancelTimer();
      this.receiving.delete(r);
    };
    const alive = () => {
      if (timedOut)
        throw new LedgerError(
          "DEADLINE_EXCEEDED",
          `${shardId}: snapshot receive timed out after ${snapshotReceiveTimeoutMs} ms`,
        );
    };
    /** Drops a snapshot refused at commit: its staging is cleared before another receive may
     * start (it would stage under the same generation), then the refusal is the call's error. */
    const refuse = async (error: LedgerError): Promise<never> => {
      refused = true;
      this.logger.warn(
        { shard: shardId, from: fromNodeId, pairs, err: error.message },
        "snapshot refused; nothing of it installed",
      );
      await this.writer.clear(prefixRange(prefix));
      finish();
      throw error;
    };
    this.logger.info(
      { shard: shardId, from: fromNodeId, index: message.snapshot.metadata.index },
      "receiving snapshot",
    );
    return {
      write: async (chunk) => {
        alive();
        await cleared;
        const batch = db.batch();
        for (const { key, value } of chunk) {
          const full = new Uint8Array(prefix.length + key.length);
          full.set(prefix);
          full.set(key, prefix.length);
          batch.put(full, value);
        }
        pairs += chunk.length;
        await this.writer.write(batch, { sync: true });
      },
      commit: async () => {
        alive();
        committing = true;
        cancelTimer();
        await cleared;
        // Our state may only be replaced by one that holds it (records are never deleted).
        // A snapshot at or below our commit index replaces nothing (Raft ignores it).
        const index = message.snapshot?.metadata.index ?? 0;
        const liveRefusal =
          index > r.log.hardState().commit
            ? await missingLiveStateRefusal(
                db,
                ledgerPrefix(r.replicaId, r.log.generation()),
                prefix,
                pairs,
                r.replicaId,
              )
            : undefined;
        if (liveRefusal !== undefined) return refuse(liveRefusal);
        const stepRefused = await new Promise<boolean>((resolve) =>
          this.host.enqueue(() => {
            this.staged.set(r, { generation, installed: false });
            const before = refusedCount(r);
            this.host.stepSafely(r, message);
            const wasRefused = refusedCount(r) > before;
            if (wasRefused) {
              // Raft refused the message itself (its term, or a contradiction with our log):
              // nothing was installed, and the staging is cleared below, not by settleStaged.
              this.staged.delete(r);
            }
            resolve(wasRefused);
          }),
        );
        if (stepRefused)
          return refuse(
            new LedgerError(
              "FAILED_PRECONDITION",
              `header.message was refused by replica ${r.replicaId}'s Raft (its term or metadata contradicts what the replica knows; see its log)`,
            ),
          );
        this.logger.info({ shard: shardId, pairs, index }, "snapshot staged and handed to Raft");
      },
      abort: async (reason) => {
        if (timedOut || refused) return; // already given up and cleared
        finish();
        this.logger.warn({ shard: shardId, from: fromNodeId, reason }, "snapshot receive aborted");
        await cleared;
        await this.writer.clear(prefixRange(prefix));
      },
    };
  }

  /**
   * Ends the receives whose MsgSnap the loop stepped this turn. Where Raft did not install it, the
   * staged data is dropped. Only now may another receive start for the replica, so the clear is
   * queued before any write of the next staging. (After an install, the replica log's cleanup
   * clears the older generations.)
   */
  settleStaged(): void {
    for (const [r, staged] of this.staged) this.settle(r, staged);
    this.staged.clear();
  }

  /** The staging a snapshot Raft installs in this turn's Ready of `r` was written under. */
  stagedFor(r: Replica): { generation: number } | undefined {
    return this.staged.get(r);
  }

  /** Raft installed the staged snapshot of `r`: its data is the replica's state now. */
  installed(r: Replica): void {
    const staged = this.staged.get(r);
    if (staged !== undefined) staged.installed = true;
  }

  private settle(r: Replica, staged: { generation: number; installed: boolean }): void {
    this.receiving.delete(r);
    if (staged.installed) return;
    this.logger.info({ shard: r.shard.id }, "staged snapshot not needed; dropping it");
    this.writer
      .clear(prefixRange(ledgerPrefix(r.replicaId, staged.generation)))
      .catch((e: unknown) =>
        this.logger.warn({ err: String(e) }, "clearing a staged snapshot failed; retried at next start"),
      );
  }

  async close(): Promise<void> {
    for (const c of this.sending) c.abort();
  }
}

/** Peer messages the replica's Raft has refused so far (it counts each). */
function refusedCount(r: Replica): number {
  const { termAboveMax, termJump, inconsistent } = r.raw.status().refused;
  return termAboveMax + termJump + inconsistent;
}
