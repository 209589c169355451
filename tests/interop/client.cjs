// A socket.io-client peer for the wire-codec interop test: argv[2] is the server URL, argv[3]
// "websocket" (connect over websocket) or "upgrade" (the client's default: long-polling first,
// then the upgrade to websocket, awaited before the checks), and the environment's
// SOCKET_IO_CLIENT is the path of the socket.io-client package. Every check prints one JSON line
// {"check": name, "value": ...}; the Python test compares them.
const { io } = require(process.env.SOCKET_IO_CLIENT);

const upgrade = process.argv[3] === "upgrade";
const transports = upgrade ? ["polling", "websocket"] : ["websocket"];
const socket = io(process.argv[2], { transports, reconnection: false });
const report = (check, value) => console.log(JSON.stringify({ check, value }));

socket.on("ask", (data, ack) => ack({ got: data }));
socket.on("pushed", (data) => report("pushed", data));

socket.on("connect", async () => {
  try {
    const engine = socket.io.engine;
    if (upgrade && engine.transport.name !== "websocket") {
      await new Promise((resolve) => engine.once("upgrade", resolve));
    }
    report("transport", engine.transport.name);
    const text = { s: "é ☃ 😀 \u2028 \"q\"", f: 1.5, n: -0.25, big: 9007199254740991, nested: [[{ a: null }]] };
    report("echo", await socket.timeout(5000).emitWithAck("echo", text));
    report("nan", await socket.timeout(5000).emitWithAck("echo", { f: NaN }));
    const blob = await socket.timeout(5000).emitWithAck("echo", { blob: Buffer.from([0, 1, 255]) });
    report("blob", { isBuffer: Buffer.isBuffer(blob.blob), bytes: Array.from(blob.blob) });
    report("floats", await socket.timeout(5000).emitWithAck("floats"));
    report("called", await socket.timeout(5000).emitWithAck("call-me", { k: "ü" }));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the pushed event
  } catch (error) {
    report("error", String(error));
  }
  socket.disconnect();
});
socket.on("connect_error", (error) => {
  report("error", String(error));
  process.exit(1);
});
