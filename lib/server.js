/** `Server`: the socket.io server object users create, as upstream's `Server` in socket.io/lib/index.ts. */
"use strict";

const http = require("node:http");
const { EventEmitter } = require("node:events");
const { Server: Engine } = require("./engine/server");

class Server extends EventEmitter {
  /**
   * @param {import("http").Server | number | object} [srv]
   * @param {object} [opts]
   */
  constructor(srv, opts = {}) {
    super();
    if (typeof srv === "object" && srv instanceof Object && !srv.listen) {
      opts = srv;
      srv = undefined;
    }
    this.opts = opts;
    this._path = (opts.path || "/socket.io").replace(/\/$/, "");
    this._connectTimeout = opts.connectTimeout || 45000;
    if (srv || typeof srv === "number") this.attach(srv);
  }

  path(v) {
    if (!arguments.length) return this._path;
    this._path = v.replace(/\/$/, "");
    return this;
  }

  connectTimeout(v) {
    if (v === undefined) return this._connectTimeout;
    this._connectTimeout = v;
    return this;
  }

  listen(srv, opts = {}) {
    return this.attach(srv, opts);
  }

  attach(srv, opts = {}) {
    if (typeof srv === "function") {
      throw new Error(
        "You are trying to attach socket.io to an express request handler function. Please pass a http.Server instance.",
      );
    }
    if (Number(srv) == srv) srv = Number(srv);
    if (typeof srv === "number") {
      const port = srv;
      srv = http.createServer();
      srv.listen(port);
    }
    Object.assign(opts, this.opts);
    opts.path = opts.path || this._path;
    const engine = new Engine(opts);
    engine.attach(srv, opts);
    this.httpServer = srv;
    this.bind(engine);
    return this;
  }

  bind(engine) {
    this.engine = engine;
    return this;
  }

  close(fn) {
    if (this.engine) this.engine.close();
    if (this.httpServer) this.httpServer.close(fn);
    else if (fn) fn();
  }
}

module.exports = { Server };
