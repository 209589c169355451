// A nullable field without a default is still required: `User.nickname`.
import { io, Socket } from "socket.io-client";
import type { MyRoomClientToServerEvents, MyRoomServerToClientEvents } from "./app_contracts";

const socket: Socket<MyRoomServerToClientEvents, MyRoomClientToServerEvents> = io("/my-room");
socket.emit("enter", { name: "ada" }); // error: Property 'nickname' is missing
