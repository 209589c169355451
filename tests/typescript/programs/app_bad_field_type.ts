// A wrong field type: `message` is a string.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("ping", { message: 42 }, (reply) => console.log(reply)); // error: Type 'number' is not assignable to type 'string'
