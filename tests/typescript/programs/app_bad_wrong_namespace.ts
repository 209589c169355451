// An event of `/chat` sent on the `/` socket.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();
socket.emit("join", { room_id: "r", owner: { name: "a", nickname: null } }, () => {}); // error: Argument of type '"join"' is not assignable
