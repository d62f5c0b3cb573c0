/** Demo server: `npm start`, then open http://localhost:3000. Grows into a chat demo. */
"use strict";

const pkg = require("..");

console.log(`socket.io-rs ${pkg.nativeVersion()} loaded`);
