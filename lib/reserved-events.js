/** Event names users may not emit, as upstream socket.io. */
"use strict";

const RESERVED_EVENTS = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

module.exports = { RESERVED_EVENTS };
