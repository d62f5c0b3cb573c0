// The ES module entry (`import { Server } from "socket.io-rs"`), as upstream's wrapper.mjs: the
// CommonJS module is the implementation, so both forms share one copy of every class.
import io from "./index.js";

export const { Server, Namespace, Socket } = io;
