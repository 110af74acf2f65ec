// A unary handler learns of its caller's cancellation through ctx.signal (made on first use, so
// calls whose handlers never ask for it cost no AbortController).

import { Server, ServerCredentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { NodeService, ReplicaStatesRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { addUnaryService, createUnaryClient, type HandlerContext } from "../../src/transport/grpc-service.js";
import { create } from "@bufbuild/protobuf";

let server: Server | undefined;
afterEach(() => {
  server?.forceShutdown();
  server = undefined;
});

async function serve(check: (ctx: HandlerContext) => Promise<never>): Promise<string> {
  server = new Server();
  const notHere = async (): Promise<never> => {
    throw new LedgerError("INTERNAL", "not in this test");
  };
  addUnaryService(
    server,
    NodeService,
    {
      replicaStates: async (_req, ctx) => check(ctx),
      propose: notHere,
      read: notHere,
      transferLeadership: notHere,
      triggerSnapshot: notHere,
    },
    () => undefined,
  );
  const port = await new Promise<number>((ok, fail) =>
    server!.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))),
  );
  return `127.0.0.1:${port}`;
}

function signalled<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("unary handler cancellation", () => {
  it("aborts a signal taken before the caller cancels", async () => {
    const entered = signalled<void>();
    const aborted = signalled<boolean>();
    const address = await serve((ctx) => {
      const signal = ctx.signal;
      signal.addEventListener("abort", () => aborted.resolve(true), { once: true });
      entered.resolve();
      return new Promise<never>(() => undefined);
    });
    const client = createUnaryClient(NodeService, address, { defaultDeadlineMs: 10_000 });
    const caller = new AbortController();
    const call = client
      .replicaStates(create(ReplicaStatesRequestSchema, {}), { signal: caller.signal })
      .catch((e: unknown) => e);
    await entered.promise;
    caller.abort();
    expect(await aborted.promise).toBe(true);
    expect(((await call) as LedgerError).code).toBe("CANCELLED");
    client.close();
  });
});
