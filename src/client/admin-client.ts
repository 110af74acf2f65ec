// A client of the gateway's admin API (ledger.admin.v1.AdminService): cluster status, leadership
// transfers, snapshots. Needs an API key of role admin; secured like LedgerClient.

import { create } from "@bufbuild/protobuf";
import { LedgerError } from "../base/errors.js";
import { clientDeadlineMsDefault } from "./limits.js";
import { parseAddress } from "../cluster/address.js";
import { AdminService, type ClusterStatusResponse } from "../gen/ledger/admin/v1/admin_pb.js";
import {
  ClusterStatusRequestSchema,
  TransferLeadershipRequestSchema,
  TriggerSnapshotRequestSchema,
} from "../gen/ledger/admin/v1/admin_pb.js";
import { createUnaryClient, type UnaryClient } from "../transport/grpc-service.js";
import { channelSecurity, defaultLedgerAddress, type ConnectOptions } from "./ledger-client.js";

export class AdminClient {
  private constructor(
    readonly address: string,
    private readonly rpc: UnaryClient<typeof AdminService>,
  ) {}

  static connect(address: string = defaultLedgerAddress, options: ConnectOptions = {}): AdminClient {
    const deadlineMs = options.deadlineMs ?? clientDeadlineMsDefault;
    if (!Number.isInteger(deadlineMs) || deadlineMs <= 0)
      throw new LedgerError("INVALID_ARGUMENT", `deadlineMs must be a positive integer, got ${deadlineMs}`);
    const parsed = parseAddress(address);
    const security = channelSecurity(parsed.host, options);
    return new AdminClient(
      parsed.text,
      createUnaryClient(AdminService, parsed.text, {
        defaultDeadlineMs: deadlineMs,
        credentials: security.credentials,
        channel: security.channel,
      }),
    );
  }

  clusterStatus(): Promise<ClusterStatusResponse> {
    return this.rpc.clusterStatus(create(ClusterStatusRequestSchema, {}));
  }

  async transferLeadership(shardId: string, toNodeId: string): Promise<void> {
    await this.rpc.transferLeadership(create(TransferLeadershipRequestSchema, { shardId, toNodeId }));
  }

  async triggerSnapshot(shardId: string, nodeId: string): Promise<bigint> {
    return (await this.rpc.triggerSnapshot(create(TriggerSnapshotRequestSchema, { shardId, nodeId }))).index;
  }

  close(): void {
    this.rpc.close();
  }
}
