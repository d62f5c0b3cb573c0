/** socket.io-rs: public entry point, shaped like require("socket.io"). */
"use strict";

const native = require("./lib/native");
const { Server, Namespace, Socket, BroadcastOperator } = require("./lib/server");
const { ParentNamespace } = require("./lib/namespace");

module.exports = (srv, opts) => new Server(srv, opts);
module.exports.Server = Server;
module.exports.Namespace = Namespace;
module.exports.ParentNamespace = ParentNamespace;
module.exports.Socket = Socket;
module.exports.BroadcastOperator = BroadcastOperator;
module.exports.nativeVersion = native.nativeVersion;
