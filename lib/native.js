/** Loads the compiled Rust addon: the only file that requires it. */
"use strict";

const path = require("node:path");

const addonPath = path.join(__dirname, "..", "socket-io-rs.node");
try {
  module.exports = require(addonPath);
} catch (err) {
  err.message = `socket.io-rs: the native addon is not built (${err.message}); run "npm run build"`;
  throw err;
}
