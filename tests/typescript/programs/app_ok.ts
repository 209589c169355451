// Correct use of the test app's contracts: this program must compile under --strict.
import { io, Socket } from "socket.io-client";
import type {
  ChatClientToServerEvents,
  ChatServerToClientEvents,
  ClientToServerEvents,
  Draw,
  MyRoomClientToServerEvents,
  MyRoomServerToClientEvents,
  ProblemDetail,
  Room,
  ServerToClientEvents,
  TemperatureOutput,
  User,
} from "./app_contracts";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("http://localhost:8000");

// an ack is the reply or a problem detail; `kind` tells them apart
socket.emit("ping", { message: "hello" }, (reply) => {
  if (reply.kind === "error") {
    const problem: ProblemDetail = reply;
    const status: number = problem.status;
    const detail: string | null | undefined = problem.detail;
    console.log(status, detail);
  } else {
    const text: string = reply.reply;
    console.log(text);
  }
});

async function withAck(): Promise<void> {
  const reply = await socket.emitWithAck("ping", { message: "hello" });
  console.log(reply.kind === "pong" ? reply.reply : reply.title);
  const status = await socket.timeout(1000).emitWithAck("status");
  if (status.kind === "status") {
    const rooms: string[] = status.rooms;
    console.log(rooms, status.uptime);
  }
}
void withAck();

// an event without payload, with a reply
socket.emit("status", (reply) => {
  if (reply.kind !== "error") console.log(reply.uptime);
});

// a discriminated union field, an enum with a default, a literal
const draw: Draw = { shape: { kind: "circle", radius: 1 }, color: "green", layer: 2 };
socket.emit("draw", draw);
socket.emit("draw", { shape: { kind: "square", side: 2 } });

// the server's emits: a tag only the server sends is required, so it narrows
socket.on("drawn", (drawn) => {
  const tag: "drawn" = drawn.kind;
  const area = "radius" in drawn.shape ? drawn.shape.radius ** 2 : drawn.shape.side ** 2;
  console.log(tag, area, drawn.color);
});

// a model with two schemas, and one with extra fields
socket.emit("convert", { celsius: 20 }, (reading) => {
  if (!("status" in reading)) {
    const output: TemperatureOutput = reading;
    console.log(output.fahrenheit);
  }
});
socket.emit("annotate", { source: "test", anything: [1, 2] }, (meta) => console.log(meta));

// several arguments; a quoted event name
socket.emit("move", 1);
socket.emit("move", 1, 2);
socket.emit("jump", 1, 2, (ok) => console.log(ok === true));
socket.emit("user-left", "u1");

// nested, optional and nullable fields in another namespace
const chat: Socket<ChatServerToClientEvents, ChatClientToServerEvents> = io("http://localhost:8000/chat");
const owner: User = { name: "ada", nickname: null, address: { street: "Main St", city: "Springfield" } };
const room: Room = { room_id: "r1", owner, members: [{ name: "bob", nickname: "b", address: null }] };
chat.emit("join", { ...room, position: [1.5, 2.5], scores: { ada: 3 } }, (members) => {
  if (!("status" in members)) console.log(members.map((m) => m.name));
});
chat.emit("ping", { message: "hi" }, (reply) => {
  if (reply.kind === "pong") console.log(reply.reply);
  else if (reply.kind === "status") console.log(reply.rooms);
  else console.log(reply.status);
});
chat.on("message", (message) => console.log(message.author.name, message.text));

const myRoom: Socket<MyRoomServerToClientEvents, MyRoomClientToServerEvents> = io("http://localhost:8000/my-room");
myRoom.emit("enter", { name: "ada", nickname: null });
