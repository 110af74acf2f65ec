// The checks every call passes before any handler sees it, as grpc-js server interceptors:
// on the public API an API key whose role covers the method, on a node a client certificate
// whose role covers it. A refused call is answered with its status at once and never reaches
// a handler, so no service can forget the check.

import {
  ServerInterceptingCall,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
} from "@grpc/grpc-js";
import { LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import { droppedMessageLogIntervalMs } from "../base/limits.js";
import { authorizationValueCharsMax } from "./limits.js";
import { ThrottledWarning } from "../base/throttled-warning.js";
import type { CallObserver } from "../transport/grpc-service.js";
import { toServiceError } from "../transport/status.js";
import { roleAllows } from "./api-keys.js";
import { certRoleMayCall, requiredApiRole, splitMethodPath } from "./call-policy.js";
import { describeIdentity } from "./identity.js";
import { AuthenticationFailure, type ApiKeyStore } from "./key-store.js";
import type { TransportSecurity } from "./transport-security.js";

/** NodeService methods that change nothing. */
const readOnlyNodeMethods = new Set(["ReplicaStates", "Read"]);

/** Told of every refused call: metrics count it under the method and code. */
export type RefusalObserver = CallObserver;

function refuse(
  call: ServerInterceptingCallInterface,
  error: LedgerError,
  observe: RefusalObserver | undefined,
  path: string,
): void {
  observe?.(splitMethodPath(path)[1], error.code, 0);
  const status = toServiceError(error);
  call.sendStatus({ code: status.code!, details: status.details!, metadata: status.metadata! });
}

/** Interceptor that runs `check` when a call's metadata arrives; the call goes on only if it resolves. */
function checkingInterceptor(
  check: (path: string, metadata: Metadata, call: ServerInterceptingCallInterface) => Promise<void> | void,
  observe?: RefusalObserver,
): ServerInterceptor {
  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const done = (e: unknown): void => {
              if (e === undefined) return pass(metadata);
              refuse(
                intercepting,
                e instanceof LedgerError
                  ? e
                  : new LedgerError("INTERNAL", "authorization check failed; see the server log"),
                observe,
                method.path,
              );
            };
            try {
              const pending = check(method.path, metadata, call);
              if (pending === undefined) done(undefined);
              else pending.then(() => done(undefined), done);
            } catch (e) {
              done(e);
            }
          },
        }),
    });
    return intercepting;
  };
}

/**
 * The public API's check: a bearer API key in the `authorization` metadata whose role covers
 * the method. Missing or unknown: UNAUTHENTICATED; a role too low: PERMISSION_DENIED. Every
 * refusal is logged (throttled: a client hammering with a bad key cannot flood the log) with
 * the key id and the peer; every admin call is logged with who made it.
 */
export function apiKeyInterceptor(store: ApiKeyStore, logger: Logger, observe?: RefusalObserver): ServerInterceptor {
  const refusals = new ThrottledWarning(logger, droppedMessageLogIntervalMs / 5);
  return checkingInterceptor(async (path, metadata, call) => {
    const needs = requiredApiRole(path);
    if (needs === "open") return;
    const value = metadata.get("authorization")[0];
    const text = typeof value === "string" ? value : undefined;
    try {
      if (text !== undefined && text.length > authorizationValueCharsMax) {
        throw new AuthenticationFailure(
          "malformed",
          undefined,
          `the authorization metadata is ${text.length} characters; an API key is far shorter`,
        );
      }
      const key = await store.authenticate(text);
      if (!roleAllows(key.role, needs)) {
        refusals.note(
          { method: path, keyId: key.id, role: key.role, needs, peer: call.getPeer() },
          "call refused: the API key's role does not allow it",
        );
        throw new LedgerError(
          "PERMISSION_DENIED",
          `API key ${key.id} has role ${key.role}; ${splitMethodPath(path)[1]} needs ${needs}`,
        );
      }
      if (needs === "admin")
        logger.info({ method: path, keyId: key.id, keyName: key.name, peer: call.getPeer() }, "admin call");
    } catch (e) {
      if (e instanceof AuthenticationFailure)
        refusals.note(
          { method: path, keyId: e.keyId ?? null, reason: e.reason, peer: call.getPeer() },
          "call refused: authentication failed",
        );
      throw e;
    }
  }, observe);
}

/**
 * A node's check: the caller's verified client certificate names a principal whose role may
 * call the method (only nodes may send Raft traffic). Without TLS (--insecure) there is no
 * certificate to check and every call passes.
 */
export function certRoleInterceptor(
  security: TransportSecurity,
  logger: Logger,
  observe?: RefusalObserver,
): ServerInterceptor {
  const refusals = new ThrottledWarning(logger, droppedMessageLogIntervalMs / 5);
  return checkingInterceptor((path, _metadata, call) => {
    if (security.mode === "insecure") return;
    const caller = security.callerOf(call);
    if (caller === undefined) {
      refusals.note({ method: path, peer: call.getPeer() }, "call refused: the client certificate names no principal");
      throw new LedgerError("UNAUTHENTICATED", "the client certificate names no principal of this cluster");
    }
    if (!certRoleMayCall(caller.role, path)) {
      refusals.note(
        { method: path, caller: describeIdentity(caller), peer: call.getPeer() },
        "call refused: the certificate's role does not allow it",
      );
      throw new LedgerError(
        "PERMISSION_DENIED",
        `${describeIdentity(caller)} may not call ${splitMethodPath(path)[1]}`,
      );
    }
    // An operator's calls are logged; the read-only ones (`dev status --watch` asks every node
    // each second) only at debug, so watching the cluster does not flood its logs.
    if (caller.role === "admin") {
      const fields = { method: path, caller: describeIdentity(caller), peer: call.getPeer() };
      if (readOnlyNodeMethods.has(splitMethodPath(path)[1])) logger.debug(fields, "admin call");
      else logger.info(fields, "admin call");
    }
  }, observe);
}

/**
 * Bounds the calls of the methods anyone may call (health, reflection: requiredApiRole "open")
 * open at once on a public server: beyond `max`, RESOURCE_EXHAUSTED. A Watch or reflection
 * stream lasts as long as its client wants, so without this one client without a key could
 * hold any number of them. Other methods pass untouched (they need a key, and their work is
 * bounded by the backend's queues).
 */
export function openCallsLimiter(max: number, logger: Logger, observe?: RefusalObserver): ServerInterceptor {
  let open = 0;
  const refusals = new ThrottledWarning(logger, droppedMessageLogIntervalMs / 5);
  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    if (requiredApiRole(method.path) !== "open") return new ServerInterceptingCall(call);
    let counted = false;
    const release = (): void => {
      if (!counted) return;
      counted = false;
      open--;
    };
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            if (open >= max) {
              refusals.note(
                { method: method.path, open, peer: call.getPeer() },
                "call refused: too many open health and reflection calls",
              );
              return refuse(
                intercepting,
                new LedgerError(
                  "RESOURCE_EXHAUSTED",
                  `${open} health and reflection calls are open, at most ${max}; retry later`,
                ),
                observe,
                method.path,
              );
            }
            open++;
            counted = true;
            pass(metadata);
          },
          onCancel: release,
        }),
      sendStatus: (status, next) => {
        release();
        next(status);
      },
    });
    return intercepting;
  };
}
