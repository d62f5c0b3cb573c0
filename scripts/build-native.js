/** Builds the Rust addon with cargo and places it next to the package as socket-io-rs.node. */
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const profile = process.argv.includes("--debug") ? "debug" : "release";
// Inside a user's node_modules the 200 MB build tree must not stay behind; in a clone it is
// kept so that rebuilds are incremental.
const installedAsDependency = root.split(path.sep).includes("node_modules");
const targetDir = installedAsDependency
  ? fs.mkdtempSync(path.join(require("node:os").tmpdir(), "socket-io-rs-build-"))
  : path.join(root, "target");

const args = ["build", "--locked", "--lib"];
if (profile === "release") args.push("--release");
const result = spawnSync("cargo", args, {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, CARGO_TARGET_DIR: targetDir },
});
if (result.error) {
  console.error("socket.io-rs: could not run cargo (is Rust installed?):", result.error.message);
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status ?? 1);

const libName = { darwin: "libsocket_io_rs.dylib", win32: "socket_io_rs.dll" }[process.platform] ??
  "libsocket_io_rs.so";
const built = path.join(targetDir, profile, libName);
const dest = path.join(root, "socket-io-rs.node");
// Copy to a temporary name then rename, so a running process never maps a half-written file.
fs.copyFileSync(built, dest + ".tmp");
fs.renameSync(dest + ".tmp", dest);
if (installedAsDependency) fs.rmSync(targetDir, { recursive: true, force: true });
