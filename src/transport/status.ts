// The one place where our error codes meet gRPC status codes. Our code also travels in
// trailing metadata so codes with no gRPC twin (NOT_LEADER) and details (the leader hint)
// survive the trip and a client decodes exactly what the server meant.

import { Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { ErrorCodes, LedgerError, type ErrorCode } from "../base/errors.js";

const codeKey = "ledger-error-code";
const detailPrefix = "ledger-detail-";

const toGrpc: Record<ErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  OUT_OF_RANGE: GrpcStatus.OUT_OF_RANGE,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  // A replica that is not the leader cannot serve the call now; callers retry elsewhere.
  NOT_LEADER: GrpcStatus.UNAVAILABLE,
  ABORTED: GrpcStatus.ABORTED,
  CANCELLED: GrpcStatus.CANCELLED,
  INTERNAL: GrpcStatus.INTERNAL,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
};

const fromGrpc = new Map<number, ErrorCode>([
  [GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT"],
  [GrpcStatus.NOT_FOUND, "NOT_FOUND"],
  [GrpcStatus.ALREADY_EXISTS, "ALREADY_EXISTS"],
  [GrpcStatus.FAILED_PRECONDITION, "FAILED_PRECONDITION"],
  [GrpcStatus.OUT_OF_RANGE, "OUT_OF_RANGE"],
  [GrpcStatus.RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"],
  [GrpcStatus.UNAVAILABLE, "UNAVAILABLE"],
  [GrpcStatus.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"],
  [GrpcStatus.ABORTED, "ABORTED"],
  [GrpcStatus.CANCELLED, "CANCELLED"],
  [GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED"],
  [GrpcStatus.PERMISSION_DENIED, "PERMISSION_DENIED"],
]);

export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  return toGrpc[code];
}

/** A LedgerError as the object grpc-js sends as a call's error status. */
export function toServiceError(e: LedgerError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(codeKey, e.code);
  for (const [k, v] of Object.entries(e.details)) metadata.set(detailPrefix + k, v);
  return { code: toGrpc[e.code], details: e.message, metadata };
}

/** Decodes any error a grpc-js client call fails with into a LedgerError. */
export function fromServiceError(e: unknown): LedgerError {
  if (e instanceof LedgerError) return e;
  const se = e as Partial<ServiceError>;
  if (typeof se?.code !== "number") {
    return new LedgerError("INTERNAL", e instanceof Error ? e.message : String(e));
  }
  const sent = se.metadata?.get(codeKey)[0];
  const code: ErrorCode =
    typeof sent === "string" && (ErrorCodes as readonly string[]).includes(sent)
      ? (sent as ErrorCode)
      : (fromGrpc.get(se.code) ?? "INTERNAL");
  const details: Record<string, string> = {};
  for (const [k, v] of Object.entries(se.metadata?.getMap() ?? {})) {
    if (k.startsWith(detailPrefix) && typeof v === "string") details[k.slice(detailPrefix.length)] = v;
  }
  return new LedgerError(code, se.details || se.message || `gRPC status ${se.code}`, details);
}
