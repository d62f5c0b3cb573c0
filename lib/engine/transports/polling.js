/**
 * HTTP long-polling, as upstream engine.io's `transports/polling`: the GETs and POSTs of polling
 * sessions, answered with what Rust queued, compressed as `httpCompression` says.
 */
"use strict";

const zlib = require("node:zlib");
const accepts = require("accepts");
const debug = require("debug")("engine:polling");
const { errorMessages, nativeErrorCodes, abortRequest } = require("../errors");
const { descriptorOf } = require("../handed-off");

/** On the response of a parked GET: the engine socket whose answer it waits for. */
const kParkedBy = Symbol("parkedBy");
/** On a request: how many bytes Node had read from its connection once the request was whole. */
const kReadWhenWhole = Symbol("readWhenWhole");

class Polling {
  /** @param {import("../server").Server} server */
  constructor(server) {
    this.server = server;
  }

  /** A request of the polling session `socket` (an engine Socket). */
  onRequest(socket, req, res) {
    if (req.method === "GET") {
      req[kReadWhenWhole] = req.socket.bytesRead;
      this.#onPoll(socket, req, res);
    } else if (req.method === "POST") {
      this.#onData(socket, req, res);
    } else {
      res.writeHead(500);
      res.end();
    }
  }

  /** Answers the parked GET of `socket`, if any, with `body`. */
  answer(socket, body) {
    const res = socket._pendingGet;
    if (!res) return;
    unpark(socket);
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
    native.parkedGets++;
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
      req[kReadWhenWhole] = req.socket.bytesRead;
      const headers = { "Content-Type": "text/html", "Content-Length": "2" };
      res.writeHead(200, this.#headers(socket, req, headers));
      res.end("ok");
      this.#handOverAfter(socket, req, res);
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
      compression && length >= thresholdOf(compression) ? accepts(req).encodings(["gzip", "deflate"]) : false;
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
    this.#handOverAfter(socket, req, res);
  }

  /**
   * After an answer on a kept-alive connection (to a handshake too, when it carried no header
   * that later answers do not: no cookie, no `initial_headers` listener): when
   * nothing per request needs JS (`Server#_pollingInRust`), Rust serves the connection's later
   * polling requests itself (src/engine/polling_connection.rs), answering as this answer did, and
   * hands it back to Node for any other request. Once the answer is written: if Node has read
   * nothing from the connection since the request was whole, nothing of a next request is lost
   * in its parser.
   */
  #handOverAfter(socket, req, res) {
    const server = this.server;
    if (!server._pollingInRust || socket.protocol !== 4 || !res.shouldKeepAlive) return;
    if (!req._query.sid && (server.opts.cookie || server.listenerCount("initial_headers") > 0)) return;
    const conn = req.socket;
    const httpServer = conn.server;
    if (!httpServer || httpServer.maxRequestsPerSocket > 0 || descriptorOf(conn) < 0) return;
    // Internet Explorer's answers carry one more header; Rust leaves its requests to JS.
    if (isInternetExplorer(req.headers["user-agent"])) return;
    res.once("finish", () => {
      if (!server._pollingInRust || conn.destroyed || conn.bytesRead !== req[kReadWhenWhole]) return;
      if (conn._httpMessage || conn.writableLength > 0) return;
      const compression = server.opts.httpCompression;
      const encoding = compression ? accepts(req).encodings(["gzip", "deflate"]) : false;
      const id = server._handedOff.nextId();
      server.native.takePollingConnection({
        fd: descriptorOf(conn),
        connection: id,
        path: server._path,
        matchOrigin: Boolean(server.opts.cors),
        origin: req.headers.origin,
        matchAcceptEncoding: Boolean(compression),
        acceptEncoding: req.headers["accept-encoding"],
        answerHead: res._header,
        compression: encoding ? { encoding, threshold: thresholdOf(compression), level: compression.level } : undefined,
        keepAliveMs: httpServer.keepAliveTimeout || 0,
        maxBody: server.opts.maxHttpBufferSize,
      });
      debug("connection handed over");
      // Before the destroy: the server must not see a moment without the connection.
      server._handedOff.hold(id, conn);
      conn.destroy();
    });
  }

  /** Response headers of a polling request, after the user's `initial_headers`/`headers` hooks. */
  #headers(socket, req, headers) {
    const server = this.server;
    if (isInternetExplorer(req.headers["user-agent"])) headers["X-XSS-Protection"] = "0";
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

/**
 * The size from which polling answers are compressed, under the `httpCompression` option (an
 * integer, for Rust too). Upstream answers plain when `length < threshold`: a threshold that is
 * absent or not a number (`httpCompression: true`, `{ level: 1 }`) compresses every answer, and
 * its default of 1024 applies only when the option is omitted.
 */
function thresholdOf(compression) {
  const threshold = Math.ceil(Number(compression.threshold));
  if (Number.isNaN(threshold) || threshold <= 0) return 0;
  return Math.min(threshold, MAX_THRESHOLD);
}

/** Rust takes the threshold as a u32; no answer comes near it. */
const MAX_THRESHOLD = 0xffffffff;

function isInternetExplorer(userAgent) {
  return Boolean(userAgent) && (userAgent.includes(";MSIE") || userAgent.includes("Trident/"));
}

/** `socket`'s parked GET is answered or gone: no GET of it waits in JS any more. */
function unpark(socket) {
  socket._pendingGet = null;
  socket.server.native.parkedGets--;
}

/** A parked GET's response closed (`this`): unanswered, it means the client is gone. */
function onParkedClose() {
  const socket = this[kParkedBy];
  if (socket._pendingGet === this) {
    unpark(socket);
    socket.server.native.requestAborted(socket.id, "poll connection closed prematurely");
  }
}

module.exports = { Polling };
