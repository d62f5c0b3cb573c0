/** The `socket.transport` object users read: its name, and the events upstream transports emit. */
"use strict";

const { EventEmitter } = require("node:events");

class Transport extends EventEmitter {
  constructor(name, sid, protocol = 4) {
    super();
    this.name = name;
    this.sid = sid;
    this.writable = true;
    this.readyState = "open";
    this.protocol = protocol;
    this.supportsBinary = true;
  }

  get handlesUpgrades() {
    return this.name === "websocket";
  }
}

module.exports = { Transport };
