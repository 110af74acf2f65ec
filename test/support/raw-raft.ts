// Raft traffic as a peer (honest, broken or hostile) would send it: one MessagesRequest on a fresh
// RaftTransportService/Messages stream, with the credentials the test chooses.

import { Client, Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { isLedgerError } from "../../src/base/errors.js";
import {
  MessagesRequestSchema,
  RaftTransportService,
  type MessagesRequest,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import { insecureChannel, type ChannelSecurity } from "../../src/transport/channel-security.js";
import { channelOptions, methodPath } from "../../src/transport/grpc-service.js";
import { fromServiceError } from "../../src/transport/status.js";

/**
 * Writes `request` on a new Messages stream to `address` and ends it; resolves once the stream
 * is over with its status: "OK" when the receiver ended it in turn (it took the batch, or
 * dropped it as it drops any bad batch), else the error code (refused at the handshake, by
 * the certificate check, ...).
 */
export async function sendRaftBatch(
  address: string,
  request: MessagesRequest,
  channel: ChannelSecurity = insecureChannel,
): Promise<string> {
  const client = new Client(address, channel.credentials, { ...channelOptions, ...channel.options });
  try {
    const call: ClientDuplexStream<Buffer, Buffer> = client.makeBidiStreamRequest(
      methodPath(RaftTransportService.method.messages),
      (b: Buffer) => b,
      (b: Buffer) => b,
      new Metadata(),
      { deadline: Date.now() + 10_000 },
    );
    const outcome = new Promise<string>((resolve) => {
      call.on("data", () => undefined);
      call.once("status", (s: { code: number }) => resolve(s.code === 0 ? "OK" : fromServiceError(s).code));
      call.once("error", (e: unknown) => resolve(isLedgerError(e) ? e.code : fromServiceError(e).code));
    });
    const bytes = toBinary(MessagesRequestSchema, request);
    call.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    call.end();
    return await outcome;
  } finally {
    client.close();
  }
}
