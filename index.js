/** socket.io-rs: public entry point, shaped like require("socket.io"). */
"use strict";

const native = require("./lib/native");
const { Server } = require("./lib/server");

module.exports = Server;
module.exports.Server = Server;
module.exports.nativeVersion = native.nativeVersion;
