// Limits of the operations HTTP server, health and status.

/** The operations HTTP server (metrics, status page) answers a request within this long. */
export const opsHttpRequestTimeoutMs = 10_000;
/** Request bodies are not expected on the operations server; anything longer is refused. */
export const opsHttpHeadersTimeoutMs = 5_000;
/** A down node's error as shown on the status page and by `dev status` is cut to this many
 * characters. */
export const statusReasonCharsMax = 160;
/** A health Check or Watch for a longer service name is refused with INVALID_ARGUMENT: a fully
 * qualified gRPC service name is a package path and a name (ours: 24 characters), and Watch
 * keeps each name asked for as a key while its stream lasts. */
export const healthServiceNameCharsMax = 256;
