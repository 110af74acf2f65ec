// The standard gRPC health service (grpc.health.v1) for one server: the overall status ("")
// and the status of the service the server exists for move together. grpc-health-check keeps
// the status map and answers Check and List; Watch streams are also tracked here so shutdown
// can end them (an open Watch would otherwise hold a graceful server shutdown until its grace
// runs out).

import type { Server, ServerWritableStream, UntypedHandleCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import { HealthImplementation, service as healthServiceDefinition, type ServingStatus } from "grpc-health-check";
import type { Logger } from "../base/logger.js";

export const healthServiceName = "grpc.health.v1.Health";

export class HealthReporter {
  private readonly impl: HealthImplementation;
  private status: ServingStatus = "NOT_SERVING";
  private readonly watches = new Set<ServerWritableStream<unknown, unknown>>();
  private reason = "starting";
  /** Set once the Watch streams were ended: the status is final (no write after an end). */
  private final = false;

  /** `serviceName`: the full name of the served service (ledger.v1.LedgerService, ...). */
  constructor(
    readonly serviceName: string,
    private readonly logger: Logger,
  ) {
    this.impl = new HealthImplementation({ "": this.status, [serviceName]: this.status });
  }

  get serving(): boolean {
    return this.status === "SERVING";
  }

  /** Sets both names' status; logs a change with its reason. Unchanged status is not re-sent
   * to watchers (the library writes to every watcher on each setStatus). */
  set(serving: boolean, reason: string): void {
    const status: ServingStatus = serving ? "SERVING" : "NOT_SERVING";
    if (this.final) return;
    if (status === this.status) {
      this.reason = reason;
      return;
    }
    this.logger.info({ health: status, previous: this.status, reason, previousReason: this.reason }, "health status changed");
    this.status = status;
    this.reason = reason;
    this.impl.setStatus("", status);
    this.impl.setStatus(this.serviceName, status);
  }

  addToServer(server: Server): void {
    // Hand the library a server stand-in whose addService wraps Watch, to learn of each stream.
    this.impl.addToServer({
      addService: (definition, implementation) => server.addService(definition, this.trackWatches(implementation)),
    });
  }

  private trackWatches(implementation: UntypedServiceImplementation): UntypedServiceImplementation {
    const watch = implementation["watch"] as ((call: ServerWritableStream<unknown, unknown>) => void) | undefined;
    if (watch === undefined) return implementation;
    const tracked = (call: ServerWritableStream<unknown, unknown>): void => {
      this.watches.add(call);
      const forget = (): void => void this.watches.delete(call);
      call.on("cancelled", forget);
      call.on("close", forget);
      watch(call);
    };
    return { ...implementation, watch: tracked as UntypedHandleCall };
  }

  /** Ends every open Watch stream (status OK: the protocol tells clients to retry with back-off,
   * which finds the server gone or back). Call after the last status change was sent. */
  endWatches(): void {
    this.final = true;
    for (const call of this.watches) call.end();
    this.watches.clear();
  }
}

/** The health service's definition (for clients: tests, probes). */
export { healthServiceDefinition };
