// A listener that expects the wrong payload for a server emit.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, Ping, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.on("drawn", (payload: Ping) => console.log(payload.message)); // error: Property 'message' is missing in type 'Drawn'
