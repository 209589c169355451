// A missing required field: `Ping.message`.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("ping", {}, (reply) => console.log(reply)); // error: Property 'message' is missing
