/** Loads the compiled Rust addon: the only file that requires it. */
"use strict";

const path = require("node:path");
const { loadPrebuilt, prebuiltPackageName } = require("./prebuilt");

/**
 * A build next to the package comes first (a clone's `npm run build`, or the source build an
 * install falls back to), so that it wins over an installed prebuilt addon; then the platform
 * package for this machine.
 */
function loadAddon() {
  const attempts = [
    ["socket-io-rs.node (built from source)", () => require(path.join(__dirname, "..", "socket-io-rs.node"))],
    [`${prebuiltPackageName()} (prebuilt)`, loadPrebuilt],
  ];
  const failures = [];
  for (const [what, load] of attempts) {
    try {
      return load();
    } catch (err) {
      failures.push({ what, err });
    }
  }
  const reasons = failures.map(({ what, err }) => `\n  ${what}: ${err.message.split("\n")[0]}`).join("");
  throw new Error(
    `socket.io-rs: no native addon loads on this machine:${reasons}\n` +
      'Install socket.io-rs again with Rust (cargo) on the PATH to build it from source, or run "npm run build" in a clone.',
    { cause: new AggregateError(failures.map(({ err }) => err)) },
  );
}

module.exports = loadAddon();
