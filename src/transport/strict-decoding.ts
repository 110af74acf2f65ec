// Undecodable requests get INVALID_ARGUMENT on every service of a server, ours and the third-party
// ones (health, reflection), unary and streaming alike. grpc-js turns a throwing
// requestDeserialize into INTERNAL "Error deserializing request", which reports a client's
// mistake as ours; so deserializers never throw: for bad bytes they return an
// UndecodableRequest, and the server interceptor below answers it with INVALID_ARGUMENT before
// any handler sees it. A unary method registered through addUnaryService answers its own
// (handlerAnswers), so its call is observed in metrics and a request whose only flaw is invalid
// UTF-8 can reach a handler that judges it per field.

import {
  ServerInterceptingCall,
  type MethodDefinition,
  type ServerInterceptor,
  type ServerOptions,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import type { DescMessage } from "@bufbuild/protobuf";
import { assert } from "../base/assert.js";
import { LedgerError } from "../base/errors.js";
import { quote } from "../base/quote.js";
import { toServiceError } from "./status.js";
import { checkWire } from "./wire-check.js";

/** What a deserializer returns in place of a request that does not decode. */
export class UndecodableRequest {
  constructor(
    /** INVALID_ARGUMENT, naming the field when it can. */
    readonly error: LedgerError,
    /** Set when invalid UTF-8 was the only problem: the request decoded with U+FFFD in place of
     * each bad string, whose paths are in invalidUtf8Fields. */
    readonly message: unknown = undefined,
    readonly invalidUtf8Fields: readonly string[] = [],
    /** The method's handler answers for it instead of the interceptor. */
    readonly handlerAnswers = false,
  ) {}
}

/** Ends a call whose request (or any message of its stream) is an UndecodableRequest with its error. */
export const rejectUndecodable: ServerInterceptor = (_method, call) =>
  new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: unknown, pass: (message: unknown) => void) => {
          if (!(message instanceof UndecodableRequest) || message.handlerAnswers) return pass(message);
          const status = toServiceError(message.error);
          call.sendStatus({ code: status.code!, details: status.details ?? "", metadata: status.metadata ?? null });
        },
      }),
  });

/**
 * `options` with rejectUndecodable added after their own interceptors (an authentication check
 * still answers first): every server of ours is built with it, as `new Server(strictServerOptions({...}))`,
 * since without it a streaming handler would be handed an UndecodableRequest as a message.
 */
export function strictServerOptions(options: ServerOptions = {}): ServerOptions {
  return { ...options, interceptors: [...(options.interceptors ?? []), rejectUndecodable] };
}

/** The schema a third-party method's request bytes are checked against, and its real type name. */
export interface ForeignRequest {
  schema: DescMessage;
  typeName: string;
}

/**
 * A copy of a third-party service definition (the object itself is shared with clients) whose
 * deserializers check the wire format against `requests` (by method path) first, and return an
 * UndecodableRequest instead of throwing. Every method must have a schema: a library upgrade
 * that adds one fails at start, not open.
 */
export function strictDefinition(
  definition: ServiceDefinition,
  requests: Readonly<Record<string, ForeignRequest>>,
): ServiceDefinition {
  const strict: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [key, method] of Object.entries(definition) as [string, MethodDefinition<unknown, unknown>][]) {
    const request = requests[method.path];
    assert(request !== undefined, () => `strictDefinition: no request schema for ${method.path}`);
    const decode = method.requestDeserialize;
    strict[key] = { ...method, requestDeserialize: (bytes: Buffer) => decodeForeign(request, bytes, decode) };
  }
  return strict as ServiceDefinition;
}

function decodeForeign(request: ForeignRequest, bytes: Buffer, decode: (bytes: Buffer) => unknown): unknown {
  const problem = checkWire(request.schema, bytes);
  if (problem !== undefined) return new UndecodableRequest(invalidRequest(request.typeName, problem));
  try {
    return decode(bytes);
  } catch (e) {
    return new UndecodableRequest(invalidRequest(request.typeName, quote(e instanceof Error ? e.message : String(e))));
  }
}

/** The error of a request that does not decode: "request is not a valid <type>: <why>". */
export function invalidRequest(typeName: string, why: string): LedgerError {
  return new LedgerError("INVALID_ARGUMENT", `request is not a valid ${typeName}: ${why}`);
}
