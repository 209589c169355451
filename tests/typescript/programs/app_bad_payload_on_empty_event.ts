// A payload for an event that carries none: the ack comes first.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("status", { verbose: true }, () => {}); // error: Expected 2 arguments, but got 3
