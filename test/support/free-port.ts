// A loopback port nobody listens on right now. Another process may still take it before the
// caller binds; where the program under test can bind port 0 and report its port, prefer that.
// The same helper the benchmark uses to place its own cluster.

export { freePort as findFreePort } from "../../src/transport/free-ports.js";
