/** socket.io-rs: public entry point, shaped like require("socket.io"). */
"use strict";

const native = require("./lib/native");

module.exports = { nativeVersion: native.nativeVersion };
