/**
 * Release tool for the platform packages that carry a prebuilt addon (README, "Releasing").
 *
 *   node scripts/package-prebuilt.js [--npm-dir DIR]
 *     Makes DIR/<target>/ (default npm/), the platform package for this machine as @napi-rs/cli
 *     lays it out: socket.io-rs-linux-x64-gnu with `os`, `cpu`, `libc` and, as `main`, a copy of
 *     the release build socket-io-rs.node renamed socket-io-rs.linux-x64-gnu.node, at the main
 *     package's version. `npm run package:prebuilt` builds first, then runs this.
 *
 *   node scripts/package-prebuilt.js --optional-dependencies [--npm-dir DIR] [--package-json FILE]
 *     Lists every platform package under DIR in FILE's (default package.json) optionalDependencies,
 *     as `napi pre-publish` does; the `prepublishOnly` script. Only at release time, so that a
 *     clone's `npm install` never asks the registry for platform packages (unpublished, or of a
 *     release older than the clone's sources).
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { prebuiltTarget, prebuiltPackageName, prebuiltFileName } = require("../lib/prebuilt");

const root = path.resolve(__dirname, "..");

function option(flag, fallback) {
  const at = process.argv.indexOf(flag);
  return at === -1 ? fallback : path.resolve(process.argv[at + 1]);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

/** Writes the platform package of this machine's release build into npmDir/<target>/. */
function makePlatformPackage(npmDir) {
  const main = readJson(path.join(root, "package.json"));
  const built = path.join(root, "socket-io-rs.node");
  const builtVersion = require(built).nativeVersion();
  if (builtVersion !== main.version) {
    throw new Error(
      `socket-io-rs.node is version ${builtVersion} (Cargo.toml), package.json ${main.version}: ` +
        "give both the release's version and build again",
    );
  }

  const target = prebuiltTarget();
  const fileName = prebuiltFileName(target);
  const dir = path.join(npmDir, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(built, path.join(dir, fileName));
  writeJson(path.join(dir, "package.json"), {
    name: prebuiltPackageName(target),
    version: main.version,
    description: `The ${target} addon of ${main.name}, prebuilt`,
    os: [process.platform],
    cpu: [process.arch],
    ...(process.platform === "linux" && { libc: [target.includes("-musl") ? "musl" : "glibc"] }),
    main: fileName,
    files: [fileName],
    license: main.license,
    engines: main.engines,
  });
  fs.writeFileSync(
    path.join(dir, "README.md"),
    `# ${prebuiltPackageName(target)}\n\nThe prebuilt ${target} addon of \`${main.name}\`, ` +
      `which installs it as an optional dependency on matching machines. Not for use on its own.\n`,
  );
  console.log(`${dir}: ${prebuiltPackageName(target)}@${main.version}`);
}

/** Sets packageJson's optionalDependencies to the platform packages in npmDir, each checked. */
function listOptionalDependencies(npmDir, packageJson) {
  const main = readJson(packageJson);
  const entries = fs.existsSync(npmDir) ? fs.readdirSync(npmDir, { withFileTypes: true }) : [];
  const dirs = entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(npmDir, entry.name));
  const platformPackages = dirs.map((dir) => ({ dir, pkg: readJson(path.join(dir, "package.json")) }));
  if (platformPackages.length === 0) {
    throw new Error(
      `no platform packages in ${npmDir}: run "npm run package:prebuilt" on each build machine ` +
        "(a release without prebuilt addons: npm publish --ignore-scripts)",
    );
  }
  for (const { dir, pkg } of platformPackages) {
    if (pkg.version !== main.version) {
      throw new Error(`${pkg.name} in ${dir} is version ${pkg.version}, ${main.name} ${main.version}`);
    }
    if (!fs.existsSync(path.join(dir, pkg.main))) throw new Error(`${dir} lacks its addon ${pkg.main}`);
  }
  main.optionalDependencies = Object.fromEntries(platformPackages.map(({ pkg }) => [pkg.name, pkg.version]));
  writeJson(packageJson, main);
  console.log(`${main.name}@${main.version} optionalDependencies: ${Object.keys(main.optionalDependencies).join(", ")}`);
}

const npmDir = option("--npm-dir", path.join(root, "npm"));
try {
  if (process.argv.includes("--optional-dependencies")) {
    listOptionalDependencies(npmDir, option("--package-json", path.join(root, "package.json")));
  } else {
    makePlatformPackage(npmDir);
  }
} catch (err) {
  console.error(`package-prebuilt: ${err.message}`);
  process.exit(1);
}
