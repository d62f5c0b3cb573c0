/**
 * Builds the Rust addon with cargo and places it next to the package as socket-io-rs.node.
 *
 * With --skip-if-prebuilt (the npm `install` script), a user's install inside node_modules builds
 * nothing when the platform package with this machine's prebuilt addon is installed and loads, so
 * that it needs no Rust. A clone always builds, so that what runs is its own source.
 */
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { loadPrebuilt, prebuiltPackageName } = require("../lib/prebuilt");

const root = path.resolve(__dirname, "..");
const installedAsDependency = root.split(path.sep).includes("node_modules");

/** Whether the prebuilt addon for this machine loads; says which way the install goes. */
function prebuiltLoads() {
  try {
    loadPrebuilt();
    console.log(`socket.io-rs: using the prebuilt addon of ${prebuiltPackageName()}`);
    return true;
  } catch (err) {
    console.log(`socket.io-rs: no prebuilt addon loads (${err.message.split("\n")[0]}); building from source`);
    return false;
  }
}

/** Runs cargo and copies the library to socket-io-rs.node; returns the exit code for the process. */
function build(profile) {
  // Inside a user's node_modules the 200 MB build tree must not stay behind, even from a failed
  // build; in a clone it is kept so that rebuilds are incremental.
  const targetDir = installedAsDependency
    ? fs.mkdtempSync(path.join(os.tmpdir(), "socket-io-rs-build-"))
    : path.join(root, "target");
  try {
    const args = ["build", "--locked", "--lib"];
    if (profile === "release") args.push("--release");
    const result = spawnSync("cargo", args, {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, CARGO_TARGET_DIR: targetDir },
    });
    if (result.error) {
      console.error("socket.io-rs: could not run cargo (is Rust installed?):", result.error.message);
      return 1;
    }
    if (result.status !== 0) return result.status ?? 1;

    const libName = { darwin: "libsocket_io_rs.dylib", win32: "socket_io_rs.dll" }[process.platform] ??
      "libsocket_io_rs.so";
    const built = path.join(targetDir, profile, libName);
    const dest = path.join(root, "socket-io-rs.node");
    // Copy to a temporary name then rename, so a running process never maps a half-written file.
    fs.copyFileSync(built, dest + ".tmp");
    fs.renameSync(dest + ".tmp", dest);
    return 0;
  } finally {
    if (installedAsDependency) fs.rmSync(targetDir, { recursive: true, force: true });
  }
}

const skipIfPrebuilt = process.argv.includes("--skip-if-prebuilt") && installedAsDependency;
if (!(skipIfPrebuilt && prebuiltLoads())) {
  process.exitCode = build(process.argv.includes("--debug") ? "debug" : "release");
}
