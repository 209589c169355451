// The official JavaScript socket.io-client as the peer of the end-to-end benchmark
// (test_end_to_end_node.py): N websocket connections, each making sequential
// emitWithAck("ping", {message: "hello"}) round trips, the N connections concurrently.
//
//     node benchmarks/node_client.cjs URL CONNECTIONS CALLS WARMUP
//     node benchmarks/node_client.cjs '{"url": URL, "connections": 20, "calls": 500, "warmup": 100}'
//
// CALLS and WARMUP are per connection. The warm-up calls run first (all connections at once,
// untimed); then the timed calls. Prints one JSON line:
// {"calls", "seconds" (wall time of the timed calls), "rps", "p50_ms", "p99_ms", "cpu_ms" (this
// process's user + system CPU time over the timed calls)}. Every reply must equal
// {reply: "hello"}: anything else, or a failed connection, exits with status 1.
// The package is found at $SOCKET_IO_CLIENT, else in tests/typescript/node/node_modules.
"use strict";

const path = require("node:path");
const { performance } = require("node:perf_hooks");

const CLIENT =
  process.env.SOCKET_IO_CLIENT ||
  path.join(__dirname, "..", "tests", "typescript", "node", "node_modules", "socket.io-client");
const { io } = require(CLIENT);

function parseArguments(argv) {
  if (argv.length === 1 && argv[0].trim().startsWith("{")) {
    const given = JSON.parse(argv[0]);
    return {
      url: String(given.url),
      connections: Number(given.connections ?? 1),
      calls: Number(given.calls ?? 1000),
      warmup: Number(given.warmup ?? 0),
    };
  }
  if (argv.length < 1 || argv.length > 4) {
    fail("usage: node node_client.cjs URL [CONNECTIONS [CALLS [WARMUP]]] | node node_client.cjs JSON");
  }
  return {
    url: argv[0],
    connections: Number(argv[1] ?? 1),
    calls: Number(argv[2] ?? 1000),
    warmup: Number(argv[3] ?? 0),
  };
}

function fail(message) {
  process.stderr.write(`node_client: ${message}\n`);
  process.exit(1);
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => reject(error));
  });
}

function checked(reply) {
  const keys = reply !== null && typeof reply === "object" ? Object.keys(reply) : [];
  if (keys.length !== 1 || keys[0] !== "reply" || reply.reply !== "hello") {
    fail(`unexpected reply ${JSON.stringify(reply)}`);
  }
}

// `calls` sequential round trips on `socket`, each awaited before the next; with `latencies`,
// every call's duration in milliseconds is pushed onto it.
async function roundTrips(socket, calls, latencies) {
  const payload = { message: "hello" };
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    const reply = await socket.emitWithAck("ping", payload);
    if (latencies !== null) latencies.push(performance.now() - start);
    checked(reply);
  }
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const { url, connections, calls, warmup } = options;
  if (![connections, calls, warmup].every((n) => Number.isInteger(n) && n >= 0) || connections < 1) {
    fail(`bad counts in ${JSON.stringify(options)}`);
  }
  const sockets = await Promise.all(Array.from({ length: connections }, () => connect(url)));
  await Promise.all(sockets.map((socket) => roundTrips(socket, warmup, null)));

  const latencies = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(sockets.map((socket) => roundTrips(socket, calls, latencies)));
  const elapsed = (performance.now() - start) / 1e3;
  const used = process.cpuUsage(cpu);

  for (const socket of sockets) socket.disconnect();
  latencies.sort((a, b) => a - b);
  const total = connections * calls;
  const line = JSON.stringify({
    calls: total,
    seconds: elapsed,
    rps: elapsed > 0 ? total / elapsed : null,
    p50_ms: quantile(latencies, 0.5),
    p99_ms: quantile(latencies, 0.99),
    cpu_ms: (used.user + used.system) / 1e3,
  });
  process.stdout.write(`${line}\n`, () => process.exit(0));
}

main().catch((error) => fail(String(error && error.stack ? error.stack : error)));
