// A wrong ack reply type: the reply may be a problem detail, so `Pong` alone does not do.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, Pong, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("ping", { message: "x" }, (reply: Pong) => console.log(reply.reply)); // error: Type 'Pong | ProblemDetail' is not assignable to type 'Pong'
