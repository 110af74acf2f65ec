// The module map (README, Architecture) as rules: what each layer may import. `npm test` runs it
// (npm run depcheck); a violation names the rule and the import.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "No import cycles, not even through types: a cycle makes two modules one.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "pure-cores-no-io",
      comment: "src/raft and src/ledger are pure: no node: module, no package with I/O.",
      severity: "error",
      from: { path: "^src/(raft|ledger)/" },
      to: { dependencyTypes: ["core", "npm", "npm-dev", "npm-optional", "npm-peer"], pathNot: "^node_modules/@bufbuild/protobuf/" },
    },
    {
      name: "pure-cores-stay-down",
      comment: "The pure cores import only themselves, src/base and generated code.",
      severity: "error",
      from: { path: "^src/(raft|ledger)/" },
      to: { path: "^src/", pathNot: ["^src/(raft|ledger|base|gen)/"] },
    },
    {
      name: "raft-through-its-index",
      comment: "Outside src/raft, the core is used through src/raft/index.ts (RawNode and its types) only.",
      severity: "error",
      from: { path: "^(src|cmd|tools)/", pathNot: "^src/raft/" },
      to: { path: "^src/raft/", pathNot: "^src/raft/index\\.ts$" },
    },
    {
      name: "raft-and-ledger-apart",
      comment: "Consensus and the ledger's rules know nothing of each other.",
      severity: "error",
      from: { path: "^src/raft/" },
      to: { path: "^src/ledger/" },
    },
    {
      name: "ledger-and-raft-apart",
      severity: "error",
      from: { path: "^src/ledger/" },
      to: { path: "^src/raft/" },
    },
    {
      name: "base-is-the-bottom",
      comment: "src/base is used by everything and uses nothing of the product.",
      severity: "error",
      from: { path: "^src/base/" },
      to: { path: "^src/", pathNot: "^src/base/" },
    },
    {
      name: "gen-is-generated",
      severity: "error",
      from: { path: "^src/gen/" },
      to: { path: "^src/", pathNot: "^src/gen/" },
    },
    {
      name: "node-not-gateway",
      comment: "Nodes and gateways are peers: neither imports the other.",
      severity: "error",
      from: { path: "^src/node/" },
      to: { path: "^src/gateway/" },
    },
    {
      name: "gateway-not-node",
      severity: "error",
      from: { path: "^src/gateway/" },
      to: { path: "^src/node/" },
    },
    {
      name: "standalone-alone",
      comment: "The standalone engine is the ledger core over storage: no Raft node, no gateway.",
      severity: "error",
      from: { path: "^src/standalone/" },
      to: { path: "^src/(node|gateway|raft)/" },
    },
    {
      name: "plumbing-below-services",
      comment: "Transport, storage, cluster and security serve the node and the gateway, never the reverse.",
      severity: "error",
      from: { path: "^src/(transport|storage|cluster|security)/" },
      to: { path: "^src/(node|gateway|standalone|client|ops|metrics)/" },
    },
    {
      name: "product-not-tools",
      comment: "The product's library (src/) does not import the tools (dev CLI, bench), the tests or cmd/.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(tools|test|cmd)/" },
    },
    {
      name: "test-support-self-contained",
      comment: "The tests' shared support drives the product as users do; it needs no tool.",
      severity: "error",
      from: { path: "^test/(support|node/support|raft/support)/" },
      to: { path: "^tools/" },
    },
    {
      name: "tools-not-tests",
      severity: "error",
      from: { path: "^tools/" },
      to: { path: "^(test|cmd)/" },
    },
    {
      name: "no-tests-in-product",
      severity: "error",
      from: { path: "^(src|cmd)/" },
      to: { path: "^test/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js"] },
    exclude: { path: "^src/gen/" },
  },
};
