// The integration tests' harness, one module per concept under harness/: the server under test
// (embedded, or a cluster deployment with MESSENGER_TEST_BACKEND=cluster), HTTP and WebSocket
// clients, SDK apps, the checks their traffic must pass, a web site for the server to fetch, and
// waiting.
export { CLUSTER } from './deployment.mjs';
export * from './harness/apps.js';
export * from './harness/checks.js';
export * from './harness/fixtures.js';
export * from './harness/http.js';
export { persisterCaughtUp, storeCaughtUp } from './harness/read-barrier.js';
export * from './harness/server.js';
export * from './harness/site.js';
export * from './harness/socket.js';
export * from './harness/wait.js';
