// With an ack after them, every argument must be passed.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("jump", 1, (ok: boolean | object) => console.log(ok)); // error: Expected 4 arguments, but got 3
