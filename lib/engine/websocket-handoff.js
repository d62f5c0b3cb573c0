/** Hands an HTTP upgrade's TCP connection to Rust, which answers `101` and runs the WebSocket. */
"use strict";

const crypto = require("node:crypto");

const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

/** The checks the `ws` package makes before it accepts a handshake. */
function validateUpgradeRequest(req) {
  const upgrade = req.headers.upgrade;
  const version = Number(req.headers["sec-websocket-version"]);
  return (
    req.method === "GET" &&
    typeof upgrade === "string" &&
    upgrade.toLowerCase() === "websocket" &&
    KEY_PATTERN.test(req.headers["sec-websocket-key"] || "") &&
    (version === 8 || version === 13)
  );
}

function switchingProtocols(req, extraHeaders) {
  const accept = crypto
    .createHash("sha1")
    .update(req.headers["sec-websocket-key"] + WEBSOCKET_GUID)
    .digest("base64");
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${accept}`,
  ];
  for (const [name, value] of Object.entries(extraHeaders)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  return lines.join("\r\n") + "\r\n\r\n";
}

/**
 * Rust duplicates the descriptor, so Node closing its own (socket.destroy) leaves the connection
 * up: no FIN is sent by Node's close of a duplicated descriptor. Returns the new session's handle
 * (0 for an upgrade, whose session already has one).
 */
function handOver(native, req, socket, head, extraHeaders, sid, isUpgrade, protocol) {
  const tcp = socket._handle;
  if (!tcp || typeof tcp.fd !== "number" || tcp.fd < 0) {
    throw new Error("this connection has no file descriptor to hand over (TLS is not supported yet)");
  }
  let bytes = head;
  const buffered = socket.read();
  if (buffered) bytes = Buffer.concat([head, buffered]);
  const response = switchingProtocols(req, extraHeaders);
  let handle = 0;
  if (isUpgrade) native.upgradeWebsocket(tcp.fd, bytes, response, sid);
  else handle = native.openWebsocket(tcp.fd, bytes, response, sid, protocol);
  socket.destroy();
  return handle;
}

module.exports = { handOver, validateUpgradeRequest };
