// A value the enum does not have.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("draw", { shape: { kind: "circle", radius: 1 }, color: "blue" }); // error: Type '"blue"' is not assignable to type 'Color
