/** Serves the official client bundles (from the socket.io-client package) under the server's path, as upstream's serveClient. */
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");
const { pipeline } = require("node:stream");
const accepts = require("accepts");
const debug = require("debug")("socket.io:server");

const CLIENT_FILES = new Set([
  "socket.io.esm.min.js",
  "socket.io.esm.min.js.map",
  "socket.io.js",
  "socket.io.js.map",
  "socket.io.min.js",
  "socket.io.min.js.map",
  "socket.io.msgpack.min.js",
  "socket.io.msgpack.min.js.map",
]);

const clientDist = path.join(path.dirname(require.resolve("socket.io-client/package.json")), "dist");
// This package's own version, as upstream: socket.io-client is pinned to one exact version, so a
// new bundle comes only with a new release of this package, and the ETag changes with it.
const expectedEtag = '"' + require("../package.json").version + '"';
const weakEtag = "W/" + expectedEtag;

const compressors = {
  br: zlib.createBrotliCompress,
  gzip: zlib.createGzip,
  deflate: zlib.createDeflate,
};

function serve(filename, req, res) {
  const isMap = filename.endsWith(".map");
  const etag = req.headers["if-none-match"];
  if (etag && (etag === expectedEtag || etag === weakEtag)) {
    debug("serve client %s 304", filename);
    res.writeHead(304);
    res.end();
    return;
  }
  debug("serve client %s", filename);
  res.setHeader("Cache-Control", "public, max-age=0");
  res.setHeader("Content-Type", "application/" + (isMap ? "json" : "javascript") + "; charset=utf-8");
  res.setHeader("ETag", expectedEtag);
  const file = fs.createReadStream(path.join(clientDist, filename));
  const encoding = accepts(req).encodings(["br", "gzip", "deflate"]);
  const onError = (err) => {
    if (err) res.end();
  };
  if (encoding && compressors[encoding]) {
    res.writeHead(200, { "content-encoding": encoding });
    pipeline(file, compressors[encoding](), res, onError);
  } else {
    res.writeHead(200);
    pipeline(file, res, onError);
  }
}

/**
 * Intercepts requests for the client files under `basePath`, leaving every other request to the
 * listeners registered before. `corsMiddleware()` returns the server's cors middleware, if any.
 */
function attachServe(srv, basePath, corsMiddleware) {
  const listeners = srv.listeners("request").slice(0);
  srv.removeAllListeners("request");
  srv.on("request", (req, res) => {
    if (req.url.startsWith(basePath)) {
      // Up to the query; every request of every session passes here, so without `split`.
      const start = basePath.length + 1;
      const query = req.url.indexOf("?", start);
      const filename = query < 0 ? req.url.slice(start) : req.url.slice(start, query);
      if (CLIENT_FILES.has(filename)) {
        const cors = corsMiddleware();
        if (cors) cors(req, res, () => serve(filename, req, res));
        else serve(filename, req, res);
        return;
      }
    }
    for (const listener of listeners) listener.call(srv, req, res);
  });
}

module.exports = { attachServe };
