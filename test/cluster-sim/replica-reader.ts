// A reader that asks any replica, not only the leader: linearizable GetAccount reads sent
// straight to a random node's NodeService (as a gateway that spreads reads would), recorded in
// the workload's history so the linearizability checker judges them with everything else.
// Followers serve them through ReadIndex, so this covers the follower read path that the
// gateway's leader-first routing seldom takes.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { isLedgerError } from "../../src/base/errors.js";
import type { ClusterConfig } from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import { QueryResultSchema, QuerySchema } from "../../src/gen/ledger/core/v1/core_pb.js";
import { ReadConsistency, ReadRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { expectAccount, expectPage, toApiAccount, toApiTransaction } from "../../src/gateway/api-mapping.js";
import { getAccountQuery, listTransactionsQuery } from "../../src/gateway/core-requests.js";
import { parseAccountId } from "../../src/ledger/ids.js";
import type { RecordedOp } from "../faults/workload.js";
import type { SimNetwork } from "./sim-network.js";
import type { SimWorld } from "./world.js";

/** One replica's chance to answer, and the pause before asking another. */
const attemptTimeoutMs = 1_000;
const retryPauseMs = 20;
const listPageSize = 1_000;

export interface ReplicaReaderOptions {
  world: SimWorld;
  network: SimNetwork;
  config: ClusterConfig;
  /** The history this reader appends to, and its client number there. */
  history: RecordedOp[];
  client: number;
  accountIds: readonly string[];
  /** The workload's clock (history times). */
  nowMs(): number;
  callTimeoutMs: number;
  thinkMsMax: number;
  /** The highest index any replica of the shard has applied (so far, on any node). */
  appliedWatermark(shardId: string): number;
  onViolation(what: string): void;
}

export class ReplicaReader {
  private stopping = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly o: ReplicaReaderOptions) {}

  start(): void {
    this.stopping = false;
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    const { world, config } = this.o;
    const r = world.random;
    while (!this.stopping) {
      await world.sleep(r.float() * this.o.thinkMsMax);
      if (this.stopping || this.o.accountIds.length === 0) break;
      const accountId = this.o.accountIds[r.intBelow(this.o.accountIds.length)]!;
      const id = parseAccountId(accountId, "account id");
      // An account, or its first page of transactions (a read of several records, over awaits).
      const list = r.intBelow(3) === 0;
      const request = create(ReadRequestSchema, {
        shardId: shardForAccount(config, id).id,
        query: toBinary(QuerySchema, list ? listTransactionsQuery(id, 0n, listPageSize) : getAccountQuery(id)),
        consistency: ReadConsistency.LINEARIZABLE,
      });
      const invokeMs = this.o.nowMs();
      // Whatever some replica applied had committed before this read began, so a linearizable
      // read must see it: its replica answers at an applied index at least this high. (A
      // stronger check than the history's: it needs no write to the account read.)
      const watermark = this.o.appliedWatermark(request.shardId);
      const op: Omit<RecordedOp, "completeMs" | "outcome"> = list
        ? { client: this.o.client, kind: "list", accountId, pageSize: listPageSize, invokeMs }
        : { client: this.o.client, kind: "get-account", accountId, invokeMs };
      // Like a gateway, it tries another replica after a refusal, until the deadline.
      const deadlineMs = world.now + this.o.callTimeoutMs;
      let lastCode = "DEADLINE_EXCEEDED";
      let answered = false;
      while (!answered && world.now < deadlineMs) {
        const node = config.nodes[r.intBelow(config.nodes.length)]!.id;
        try {
          const reply = await this.o.network
            .nodeClient("gateway", node)
            .read(request, { deadlineMs: Math.min(deadlineMs, world.now + attemptTimeoutMs) });
          const result = fromBinary(QueryResultSchema, reply.result);
          const completeMs = this.o.nowMs();
          if (reply.appliedIndex < BigInt(watermark))
            this.o.onViolation(
              `${node} answered a linearizable read of ${request.shardId} at applied index ${reply.appliedIndex}, behind index ${watermark} that a replica had applied when the read began`,
            );
          if (list) {
            const transactions = expectPage(result).transactions.map(toApiTransaction);
            this.o.history.push({ ...op, completeMs, outcome: "ok", transactions });
          } else {
            this.o.history.push({ ...op, completeMs, outcome: "ok", account: toApiAccount(expectAccount(result)) });
          }
          answered = true;
        } catch (e) {
          if (!isLedgerError(e)) throw e;
          lastCode = e.code;
          await world.sleep(retryPauseMs);
        }
      }
      // A read changes nothing: whatever failed, its outcome is only "no answer".
      if (!answered) this.o.history.push({ ...op, completeMs: this.o.nowMs(), outcome: "unknown", code: lastCode });
    }
  }
}
