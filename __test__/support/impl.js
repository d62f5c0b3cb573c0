/** The server implementation under test: this package, or upstream socket.io with SOCKET_IO_IMPL=socket.io. */
"use strict";

// Every behaviour test can be run against upstream first, proving that what it asserts is what
// upstream does; CI runs it against this package.
const name = process.env.SOCKET_IO_IMPL === "socket.io" ? "socket.io" : "../..";
module.exports = require(name);
module.exports.implName = name === "socket.io" ? "socket.io" : "socket.io-rs";
