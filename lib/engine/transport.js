/** The `socket.transport` object users read: its name, and the events upstream transports emit. */
"use strict";

const { EventEmitter } = require("node:events");
const debug = require("debug")("engine:transport");

class Transport extends EventEmitter {
  constructor(name, sid, protocol = 4) {
    super();
    this.name = name;
    this.sid = sid;
    this.writable = true;
    this._readyState = "open";
    this.protocol = protocol;
    this.supportsBinary = true;
  }

  get readyState() {
    return this._readyState;
  }

  set readyState(state) {
    debug("readyState updated from %s to %s (%s)", this._readyState, state, this.name);
    this._readyState = state;
  }

  get handlesUpgrades() {
    return this.name === "websocket";
  }
}

/** Logs what a transport logs as it closes, for a socket whose transport object was never made. */
function logTransportClosed(name) {
  debug("readyState updated from open to closed (%s)", name);
}

module.exports = { Transport, logTransportClosed };
