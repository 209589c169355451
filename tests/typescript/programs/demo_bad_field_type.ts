// The demo's `Divide` takes numbers.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./demo_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("divide", { a: "1", b: 2 }, (reply) => console.log(reply)); // error: Type 'string' is not assignable to type 'number'
