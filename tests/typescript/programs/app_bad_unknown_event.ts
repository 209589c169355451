// An unknown event.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("pingg", { message: "x" }); // error: Argument of type '"pingg"' is not assignable
