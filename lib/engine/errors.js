/** Engine.IO error codes and how a refused HTTP request or upgrade is answered, as upstream. */
"use strict";

const errors = Object.freeze({
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
});

const errorMessages = Object.freeze({
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
});

/** The engine's native error codes (src/binding/error.rs) as upstream error codes. */
const nativeErrorCodes = Object.freeze({
  UNKNOWN_SID: errors.UNKNOWN_SID,
  TRANSPORT_MISMATCH: errors.BAD_REQUEST,
  OVERLAP: errors.BAD_REQUEST,
  BINARY_BODY: errors.BAD_REQUEST,
});

function abortRequest(res, code, context) {
  const statusCode = code === errors.FORBIDDEN ? 403 : 400;
  const message = context && context.message ? context.message : errorMessages[code];
  res.writeHead(statusCode, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ code, message }));
}

function abortUpgrade(socket, code, context = {}) {
  socket.on("error", () => {});
  if (socket.writable) {
    const message = context.message || errorMessages[code];
    socket.write(
      "HTTP/1.1 400 Bad Request\r\n" +
        "Connection: close\r\n" +
        "Content-type: text/html\r\n" +
        `Content-Length: ${Buffer.byteLength(message)}\r\n` +
        "\r\n" +
        message,
    );
  }
  socket.destroy();
}

module.exports = { errors, errorMessages, nativeErrorCodes, abortRequest, abortUpgrade };
