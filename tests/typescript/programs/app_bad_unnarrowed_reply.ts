// Reading the reply without telling it from a problem detail.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("ping", { message: "x" }, (reply) => console.log(reply.reply)); // error: Property 'reply' does not exist on type 'ProblemDetail'
