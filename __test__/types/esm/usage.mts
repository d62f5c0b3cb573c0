// An ES module in TypeScript with "module": "nodenext" imports the package by name, as upstream's
// users do; the names resolve through package.json "exports" to index.d.ts.
import { Server, Socket } from "socket.io-rs";

interface ServerToClientEvents {
  hello: (name: string) => void;
}

const io = new Server<Record<string, never>, ServerToClientEvents>();
io.on("connection", (socket: Socket<Record<string, never>, ServerToClientEvents>) => {
  socket.emit("hello", "world");
  // @ts-expect-error the event map types the arguments
  socket.emit("hello", 42);
});
