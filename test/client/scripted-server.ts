// An in-process LedgerService whose answers each test scripts, recording every request it gets.
// It lets the client tests pin down exactly what goes over the wire and how each kind of reply
// (pages, errors, slow handlers) comes back, independent of the real ledger.

import { Server, ServerCredentials } from "@grpc/grpc-js";
import { LedgerError } from "../../src/base/errors.js";
import { LedgerService } from "../../src/gen/ledger/v1/ledger_pb.js";
import { addUnaryService, type UnaryImpl } from "../../src/transport/grpc-service.js";

type Impl = UnaryImpl<typeof LedgerService>;
type MethodName = keyof Impl;

export interface RecordedRequest {
  method: MethodName;
  request: unknown;
}

export class ScriptedServer {
  readonly requests: RecordedRequest[] = [];
  readonly internalErrors: string[] = [];
  /** Handlers for this test; methods left out fail with INTERNAL. */
  handlers: Partial<Impl> = {};

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(): Promise<ScriptedServer> {
    const server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const scripted = new ScriptedServer(server, `127.0.0.1:${port}`);
    const impl: Record<string, unknown> = {};
    for (const method of LedgerService.methods) {
      const name = method.localName as MethodName;
      impl[name] = (request: unknown, ctx: unknown) => {
        scripted.requests.push({ method: name, request });
        const handler = scripted.handlers[name] as ((req: unknown, ctx: unknown) => Promise<unknown>) | undefined;
        if (!handler) return Promise.reject(new LedgerError("INTERNAL", `${name} is not scripted in this test`));
        return handler(request, ctx);
      };
    }
    addUnaryService(server, LedgerService, impl as Impl, (method, e) =>
      scripted.internalErrors.push(`${method}: ${String(e)}`),
    );
    return scripted;
  }

  reset(): void {
    this.requests.length = 0;
    this.handlers = {};
  }

  stop(): void {
    this.server.forceShutdown();
  }
}
