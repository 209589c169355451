// A discriminator no member of the union has.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("draw", { shape: { kind: "triangle", side: 1 } }); // error: '"triangle"' is not assignable
