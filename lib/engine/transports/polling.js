/**
 * HTTP long-polling, as upstream engine.io's `transports/polling`: the GETs and POSTs of polling
 * sessions, answered with what Rust queued, compressed as `httpCompression` says.
 */
"use strict";

const zlib = require("node:zlib");
const accepts = require("accepts");
const debug = require("debug")("engine:polling");
const { errorMessages, nativeErrorCodes, abortRequest } = require("../errors");

/** On the response of a parked GET: the engine socket whose answer it waits for. */
const kParkedBy = Symbol("parkedBy");

class Polling {
  /** @param {import("../server").Server} server */
  constructor(server) {
    this.server = server;
  }

  /** A request of the polling session `socket` (an engine Socket). */
  onRequest(socket, req, res) {
    if (req.method === "GET") this.#onPoll(socket, req, res);
    else if (req.method === "POST") this.#onData(socket, req, res);
    else {
      res.writeHead(500);
      res.end();
    }
  }

  /** Answers the parked GET of `socket`, if any, with `body`. */
  answer(socket, body) {
    const res = socket._pendingGet;
    if (!res) return;
    socket._pendingGet = null;
    try {
      this.#respond(socket, socket._pendingGetRequest, res, body);
    } catch (error) {
      // Left unanswered, the GET would hang the client: it fails, and the client learns.
      res.destroy();
      throw error;
    }
  }

  #onPoll(socket, req, res) {
    debug("setting request");
    const native = this.server.native;
    let body;
    try {
      body = native.poll(socket.id);
    } catch (err) {
      this.#refuse(req, res, err);
      return;
    }
    if (body !== null) {
      this.#respond(socket, req, res, body);
      return;
    }
    socket._pendingGet = res;
    socket._pendingGetRequest = req;
    res[kParkedBy] = socket;
    res.on("close", onParkedClose);
  }

  #onData(socket, req, res) {
    const native = this.server.native;
    if (socket._postInFlight) {
      native.requestAborted(socket.id, "data request overlap from client");
      res.writeHead(400);
      res.end();
      return;
    }
    // Binary POST bodies exist in Engine.IO v3 only.
    const isBinary = req.headers["content-type"] === "application/octet-stream";
    if (isBinary && socket.protocol === 4) {
      native.requestAborted(socket.id, "invalid content");
      res.writeHead(400);
      res.end();
      return;
    }
    socket._postInFlight = true;
    const limit = this.server.opts.maxHttpBufferSize;
    let body = "";
    const buffers = [];
    let length = 0;
    let done = false;
    const finish = () => {
      done = true;
      socket._postInFlight = false;
      req.removeListener("data", onData);
    };
    const onData = (chunk) => {
      length += Buffer.byteLength(chunk);
      if (length > limit) {
        finish();
        res.writeHead(413).end();
        return;
      }
      if (isBinary) buffers.push(chunk);
      else body += chunk;
    };
    if (!isBinary) req.setEncoding("utf8");
    req.on("data", onData);
    // Each fires once: `on` spares the wrapper that `once` makes per request.
    req.on("end", () => {
      if (done) return;
      finish();
      debug('received "%s"', body);
      let caused;
      try {
        caused = native.post(socket.id, isBinary ? Buffer.concat(buffers, length) : body);
      } catch (err) {
        this.#refuse(req, res, err);
        return;
      }
      this.server._dispatchPosted(caused);
      const headers = { "Content-Type": "text/html", "Content-Length": "2" };
      res.writeHead(200, this.#headers(socket, req, headers));
      res.end("ok");
    });
    req.on("close", () => {
      if (done) return;
      finish();
      native.requestAborted(socket.id, "data request connection closed prematurely");
    });
  }

  #refuse(req, res, err) {
    const code = nativeErrorCodes[err.message];
    if (code === undefined) throw err;
    this.server.emit("connection_error", { req, code, message: errorMessages[code], context: {} });
    if (err.message === "OVERLAP") {
      res.writeHead(400);
      res.end();
    } else {
      abortRequest(res, code);
    }
  }

  /** Answers a long-poll GET, compressed as upstream's `httpCompression` says. */
  #respond(socket, req, res, body) {
    debug('writing "%s"', body);
    const length = Buffer.byteLength(body);
    const compression = this.server.opts.httpCompression;
    const encoding =
      compression && length >= (compression.threshold ?? 1024)
        ? accepts(req).encodings(["gzip", "deflate"])
        : false;
    if (!encoding) {
      this.#send(socket, req, res, body, length, undefined);
      return;
    }
    debug("compressing");
    zlib[encoding === "gzip" ? "gzip" : "deflate"](body, compression, (err, compressed) => {
      if (err) {
        res.writeHead(500);
        res.end();
        return;
      }
      this.#send(socket, req, res, compressed, compressed.length, encoding);
    });
  }

  #send(socket, req, res, data, length, encoding) {
    // In upstream's order: the headers' order is on the wire.
    const headers = { "Content-Type": "text/plain; charset=UTF-8" };
    if (encoding) headers["Content-Encoding"] = encoding;
    headers["Content-Length"] = length;
    res.writeHead(200, this.#headers(socket, req, headers));
    res.end(data);
  }

  /** Response headers of a polling request, after the user's `initial_headers`/`headers` hooks. */
  #headers(socket, req, headers) {
    const server = this.server;
    const ua = req.headers["user-agent"];
    if (ua && (ua.includes(";MSIE") || ua.includes("Trident/"))) headers["X-XSS-Protection"] = "0";
    headers["cache-control"] = "no-store";
    if (!req._query.sid) {
      if (server.opts.cookie) {
        const { serialize } = require("cookie");
        headers["Set-Cookie"] = [serialize(server.opts.cookie.name, socket.id, server.opts.cookie)];
      }
      server.emit("initial_headers", headers, req);
    }
    server.emit("headers", headers, req);
    return headers;
  }
}

/** A parked GET's response closed (`this`): unanswered, it means the client is gone. */
function onParkedClose() {
  const socket = this[kParkedBy];
  if (socket._pendingGet === this) {
    socket._pendingGet = null;
    socket.server.native.requestAborted(socket.id, "poll connection closed prematurely");
  }
}

module.exports = { Polling };
