// Correct use of the demo's contracts (examples/demo.py): this program must compile under --strict.
import { io, Socket } from "socket.io-client";
import type { ClientToServerEvents, Quotient, ServerToClientEvents } from "./demo_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("http://127.0.0.1:8000");

socket.emit("ping", { message: "hello" }, (reply) => {
  if ("status" in reply) console.log(reply.status, reply.title);
  else console.log(reply.reply.toUpperCase());
});
socket.emit("divide", { a: 1, b: 0 }, (reply) => {
  if (!("status" in reply)) {
    const quotient: Quotient = reply;
    console.log(quotient.value);
  }
});
socket.emit("join_room", { room: "lobby" });
socket.on("room_message", (message) => console.log(message.room, message.text));
socket.on("announcement", (announcement) => console.log(announcement.text));
