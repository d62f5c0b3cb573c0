/** The platform packages that carry a prebuilt addon: @napi-rs/cli's names, and loading ours. */
"use strict";

const { readFileSync } = require("node:fs");
const { name, version } = require("../package.json");

/**
 * This machine as @napi-rs/cli names a build target: "linux-x64-gnu", "linux-arm64-musl",
 * "linux-arm-gnueabihf", "darwin-arm64", "win32-x64-msvc", ...
 * @returns {string}
 */
function prebuiltTarget() {
  const { platform, arch } = process;
  if (platform === "linux") {
    const libc = isMusl() ? "musl" : "gnu";
    return `linux-${arch}-${arch === "arm" ? `${libc}eabihf` : libc}`;
  }
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/**
 * Whether Node runs on musl (Alpine) rather than glibc, which an addon is linked against. As
 * napi-rs's generated loader: the ldd script names its libc; failing that, Node's diagnostic
 * report lists the shared objects loaded.
 */
function isMusl() {
  try {
    return readFileSync("/usr/bin/ldd", "utf8").includes("musl");
  } catch {
    const { header, sharedObjects } = process.report.getReport();
    return !header.glibcVersionRuntime && sharedObjects.some((file) => /libc\.musl-|ld-musl-/.test(file));
  }
}

/** The platform package for `target`, e.g. socket.io-rs-linux-x64-gnu. */
function prebuiltPackageName(target = prebuiltTarget()) {
  return `${name}-${target}`;
}

/** The addon's file in that package (its `main`), e.g. socket-io-rs.linux-x64-gnu.node. */
function prebuiltFileName(target = prebuiltTarget()) {
  return `socket-io-rs.${target}.node`;
}

/**
 * Loads the addon of the installed platform package for this machine. One of another version is
 * refused: its addon was built for other JavaScript than this package's.
 */
function loadPrebuilt() {
  const packageName = prebuiltPackageName();
  const prebuiltVersion = require(`${packageName}/package.json`).version;
  if (prebuiltVersion !== version) {
    throw new Error(`${packageName} is version ${prebuiltVersion}, not ${version}`);
  }
  return require(packageName);
}

module.exports = { prebuiltTarget, prebuiltPackageName, prebuiltFileName, loadPrebuilt };
