// gRPC server reflection (grpc.reflection.v1 and v1alpha) for the public API, so generic tools
// (grpcurl, Postman) can list and call LedgerService without the proto files. The descriptors
// come from the same .proto files the code is generated from, found next to this module (not
// in the working directory, which may be anywhere).

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { ServerReflectionRequestSchema } from "../gen/ledger/wire/v1/foreign_requests_pb.js";
import { strictDefinition, type ForeignRequest } from "../transport/strict-decoding.js";

/** The repository's proto/ directory, two levels up from this file (src/ops/). */
const protoDir = fileURLToPath(new URL("../../proto/", import.meta.url));
/** grpc-health-check's proto root: its file is health/v1/health.proto under it. */
const healthProtoDir = dirname(dirname(dirname(healthProtoPath)));

export const ledgerProtoFile = "ledger/v1/ledger.proto";
export const adminProtoFile = "ledger/admin/v1/admin.proto";

/** Adds reflection over ledger.v1.LedgerService, grpc.health.v1.Health and, where it is served
 * (the gateway), ledger.admin.v1.AdminService to `server`. */
export function addLedgerReflection(server: Pick<Server, "addService">, options: { admin: boolean }): void {
  const files = [ledgerProtoFile, "health/v1/health.proto", ...(options.admin ? [adminProtoFile] : [])];
  const definition = loadSync(files, {
    includeDirs: [protoDir, healthProtoDir],
    keepCase: true,
  });
  // A server stand-in whose addService makes the library's request decoding strict.
  new ReflectionService(definition).addToServer({
    addService: (service, implementation) =>
      server.addService(strictDefinition(service, reflectionRequests), implementation),
  });
}

/** The schemas reflection requests' wire format is checked against (strict-decoding.ts); v1alpha
 * has the same fields as v1. */
const reflectionRequests: Record<string, ForeignRequest> = Object.fromEntries(
  ["v1", "v1alpha"].map((version) => [
    `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
    { schema: ServerReflectionRequestSchema, typeName: `grpc.reflection.${version}.ServerReflectionRequest` },
  ]),
);
