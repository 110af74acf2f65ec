// The standard gRPC health service (grpc.health.v1) for one server: the overall status ("")
// and the status of the service the server exists for move together. grpc-health-check keeps
// the status map and answers Check and List; Watch streams are also tracked here so shutdown
// can end them (an open Watch would otherwise hold a graceful server shutdown until its grace
// runs out).

import {
  status as grpcStatus,
  type sendUnaryData,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { HealthImplementation, service as healthServiceDefinition, type ServingStatus } from "grpc-health-check";
import { LedgerError } from "../base/errors.js";
import { healthServiceNameCharsMax } from "./limits.js";
import type { Logger } from "../base/logger.js";
import { quote } from "../base/quote.js";
import { HealthCheckRequestSchema, HealthListRequestSchema } from "../gen/ledger/wire/v1/foreign_requests_pb.js";
import { toServiceError } from "../transport/status.js";
import { strictDefinition, type ForeignRequest } from "../transport/strict-decoding.js";

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
    this.logger.info(
      { health: status, previous: this.status, reason, previousReason: this.reason },
      "health status changed",
    );
    this.status = status;
    this.reason = reason;
    this.impl.setStatus("", status);
    this.impl.setStatus(this.serviceName, status);
  }

  addToServer(server: Server): void {
    // Hand the library a server stand-in whose addService decodes strictly, bounds the service
    // names asked for, and wraps Watch, to learn of each stream.
    this.impl.addToServer({
      addService: (definition, implementation) =>
        server.addService(
          strictDefinition(definition, healthRequests),
          this.trackWatches(guardServiceNames(implementation)),
        ),
    });
  }

  private trackWatches(implementation: UntypedServiceImplementation): UntypedServiceImplementation {
    const watch = implementation.watch as ((call: ServerWritableStream<unknown, unknown>) => void) | undefined;
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

/** The schemas the health requests' wire format is checked against (strict-decoding.ts). */
const healthRequests: Record<string, ForeignRequest> = {
  [`/${healthServiceName}/Check`]: { schema: HealthCheckRequestSchema, typeName: "grpc.health.v1.HealthCheckRequest" },
  [`/${healthServiceName}/Watch`]: { schema: HealthCheckRequestSchema, typeName: "grpc.health.v1.HealthCheckRequest" },
  [`/${healthServiceName}/List`]: { schema: HealthListRequestSchema, typeName: "grpc.health.v1.HealthListRequest" },
};

/** Why a Check or Watch request's service name is refused, if it is: the library echoes the name
 * whole in Check's NOT_FOUND (a client refuses trailers past 8 KiB: RESOURCE_EXHAUSTED, or with
 * grpc-js a call that hangs until its deadline), and Watch keeps it as a key while it lasts. */
function serviceNameRefusal(request: unknown): LedgerError | undefined {
  const name = (request as { service?: unknown } | undefined)?.service;
  if (typeof name !== "string" || name.length <= healthServiceNameCharsMax) return undefined;
  return new LedgerError(
    "INVALID_ARGUMENT",
    `service is ${name.length} characters long; at most ${healthServiceNameCharsMax} are allowed`,
  );
}

/** The library's handlers, with long service names refused and Check's NOT_FOUND quoting the
 * name bounded. */
function guardServiceNames(implementation: UntypedServiceImplementation): UntypedServiceImplementation {
  const check = implementation.check as
    | ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void)
    | undefined;
  const watch = implementation.watch as ((call: ServerWritableStream<unknown, unknown>) => void) | undefined;
  const guarded: UntypedServiceImplementation = { ...implementation };
  if (check !== undefined) {
    const guardedCheck = (
      call: ServerUnaryCall<{ service: string }, unknown>,
      callback: sendUnaryData<unknown>,
    ): void => {
      const refusal = serviceNameRefusal(call.request);
      if (refusal !== undefined) return callback(toServiceError(refusal) as ServiceError);
      check(call, (error, value) => {
        if (error?.code !== grpcStatus.NOT_FOUND) return callback(error, value);
        callback(
          { ...error, details: `service ${quote(String(call.request.service))} has no health status on this server` },
          value,
        );
      });
    };
    guarded.check = guardedCheck as UntypedHandleCall;
  }
  if (watch !== undefined) {
    const guardedWatch = (call: ServerWritableStream<unknown, unknown>): void => {
      const refusal = serviceNameRefusal(call.request);
      // grpc-js sends an 'error' emitted on a server stream as its status.
      if (refusal !== undefined) return void call.emit("error", toServiceError(refusal));
      watch(call);
    };
    guarded.watch = guardedWatch as UntypedHandleCall;
  }
  return guarded;
}

/** The health service's definition (for clients: tests, probes). */
export { healthServiceDefinition };
