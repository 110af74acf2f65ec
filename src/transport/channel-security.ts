// What a channel to a peer is opened with: credentials (TLS checking the peer's identity, or
// insecure) and the channel options they need (the TLS server name). Made by the process's
// TransportSecurity (src/security), used by every client of an internal service.

import { ChannelCredentials } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";

/** A server call whose TLS connection can be asked for the client's verified certificate
 * (grpc-js calls; its AuthContext type is not exported). */
export interface CallWithAuth {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate };
}

export interface ChannelSecurity {
  credentials: ChannelCredentials;
  options: Record<string, string>;
}

/** Plain TCP: tests of transport code that is not about security, and --insecure. */
export const insecureChannel: ChannelSecurity = { credentials: ChannelCredentials.createInsecure(), options: {} };
