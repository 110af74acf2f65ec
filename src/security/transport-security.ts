// How a process's gRPC servers and channels are secured: mutual TLS with the cluster CA, or
// (only with an explicit --insecure) nothing at all. Everything that opens a server or a
// channel to a cluster peer takes one of these, so the choice is made once, at the composition
// root, and cannot be forgotten on one path.
//
// With TLS, a channel to a cluster peer checks that the server's certificate names the node it
// meant to reach (not merely some certificate of the CA), and a server takes its caller's
// identity from the verified client certificate of the connection.

import { ServerCredentials, experimental } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import type { Logger } from "../base/logger.js";
import { insecureChannel, type CallWithAuth, type ChannelSecurity } from "../transport/channel-security.js";
import { describeIdentity, identityOfCertificate, type PeerIdentity } from "./identity.js";
import type { TlsWatcher } from "./tls-watcher.js";

export interface TransportSecurity {
  readonly mode: "tls" | "insecure";
  /** Who this process is (undefined when insecure). */
  readonly identity: PeerIdentity | undefined;
  /** Credentials of an internal server: callers must present a certificate of the CA. */
  internalServerCredentials(): ServerCredentials;
  /** Credentials of a public server (the gateway's API): TLS, no client certificate (clients
   * authenticate with API keys). */
  publicServerCredentials(): ServerCredentials;
  /** Credentials of a channel to cluster peer `expected`; one object per peer, reused, so
   * grpc-js can share connections. */
  channelTo(expected: PeerIdentity): ChannelSecurity;
  /** The verified principal of a call's TLS client certificate; undefined when insecure or
   * when the certificate names no principal of ours. */
  callerOf(call: CallWithAuth): PeerIdentity | undefined;
  close(): void;
}

/** The principal a call's client certificate names, if any. */
export function callerIdentity(call: CallWithAuth): PeerIdentity | undefined {
  return identityOfCertificate(call.getAuthContext().sslPeerCertificate);
}

/** Mutual TLS over one watched set of files (see TlsWatcher). */
export function tlsTransport(watcher: TlsWatcher): TransportSecurity {
  const channels = new Map<string, ChannelSecurity>();
  let internal: ServerCredentials | undefined;
  let publicCreds: ServerCredentials | undefined;
  return {
    mode: "tls",
    get identity() {
      return watcher.current.identity;
    },
    internalServerCredentials() {
      // grpc-js swaps this function's first two parameters internally; one provider serves both
      // roles here, so the order cannot matter.
      return (internal ??= experimental.createCertificateProviderServerCredentials(watcher, watcher, true));
    },
    publicServerCredentials() {
      // No CA provider: the server asks for no client certificate.
      return (publicCreds ??= experimental.createCertificateProviderServerCredentials(watcher, null, false));
    },
    channelTo(expected) {
      const key = describeIdentity(expected);
      let channel = channels.get(key);
      if (channel === undefined) {
        const credentials = experimental.createCertificateProviderChannelCredentials(watcher, watcher, {
          // Replaces the host name check: peers are dialled by address, and what matters is
          // that the certificate (already verified against the CA) names this very peer.
          checkServerIdentity: (_host: string, cert: PeerCertificate) => {
            const got = identityOfCertificate(cert);
            if (got !== undefined && got.role === expected.role && got.name === expected.name) return undefined;
            return new Error(
              `the server's certificate names ${got === undefined ? "no principal" : describeIdentity(got)}, expected ${key}`,
            );
          },
        });
        // The TLS server name (SNI) is the peer's name rather than its address: an IP address
        // there is refused by RFC 6066 and warned about by Node.
        channel = { credentials, options: { "grpc.ssl_target_name_override": expected.name } };
        channels.set(key, channel);
      }
      return channel;
    },
    callerOf: callerIdentity,
    close: () => watcher.close(),
  };
}

/**
 * No TLS, no peer authentication: only for a trusted network, chosen with --insecure on every
 * process. Logged loudly at start, and shown on the status page.
 */
export function insecureTransport(): TransportSecurity {
  return {
    mode: "insecure",
    identity: undefined,
    internalServerCredentials: () => ServerCredentials.createInsecure(),
    publicServerCredentials: () => ServerCredentials.createInsecure(),
    channelTo: () => insecureChannel,
    callerOf: () => undefined,
    close: () => undefined,
  };
}

export const insecureWarning =
  "running WITHOUT TLS and authentication (--insecure): anyone who can reach this process's ports can read and change the ledger; use only on a trusted, isolated network";

export function warnIfInsecure(security: TransportSecurity, logger: Logger): void {
  if (security.mode === "insecure") logger.warn({ insecure: true }, insecureWarning);
}
