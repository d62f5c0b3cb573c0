/**
 * The install as a user gets it, from packed tarballs into an empty project, with no Rust on the
 * PATH: the platform package's prebuilt addon serves; without it the install tries to build from
 * source. (That build itself, which takes minutes: __test__/slow/install-from-source.test.js.)
 * Packs this checkout's release build (npm install makes it); npm takes the main package's
 * dependencies from its cache or the registry.
 */
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const { prebuiltPackageName, prebuiltFileName } = require("../lib/prebuilt");
const { name, version } = require("../package.json");
const { NPM_INSTALL, run, envWithoutRust, usePackedRelease, emptyProject, exchangeEvents } = require("./support/install");

const packed = usePackedRelease();

test("the published main package lists the platform package as an optional dependency, and ships no addon", async () => {
  const manifest = await run("tar", ["-xzOf", packed().main, "package/package.json"], { timeout: 30000 });
  assert.deepStrictEqual(JSON.parse(manifest.stdout).optionalDependencies, { [prebuiltPackageName()]: version });
  const listing = await run("tar", ["-tzf", packed().main], { timeout: 30000 });
  assert.ok(!/\.node$/m.test(listing.stdout), listing.stdout);
});

test("without Rust, the install takes the prebuilt addon, which serves clients", async () => {
  const env = envWithoutRust();
  await assert.rejects(run("cargo", ["--version"], { env, timeout: 10000 }), { code: "ENOENT" });

  const project = emptyProject(packed().tmp, "prebuilt-app");
  const install = [...NPM_INSTALL, packed().platform, packed().main];
  const { output } = await run("npm", install, { cwd: project, env, timeout: 40000 });
  assert.match(output, new RegExp(`using the prebuilt addon of ${prebuiltPackageName()}`));
  const installed = path.join(project, "node_modules", name);
  assert.deepStrictEqual(fs.readdirSync(installed).filter((file) => file.endsWith(".node")), []);

  const prebuiltDir = path.join(project, "node_modules", prebuiltPackageName());
  assert.deepStrictEqual(await exchangeEvents(project, env), {
    acks: [42, 42],
    addons: [path.join(prebuiltDir, prebuiltFileName())],
  });

  // A platform package of another release is refused, with the reason of each attempt.
  const prebuiltJson = path.join(prebuiltDir, "package.json");
  const otherRelease = { ...JSON.parse(fs.readFileSync(prebuiltJson, "utf8")), version: "0.0.0-other" };
  fs.writeFileSync(prebuiltJson, JSON.stringify(otherRelease));
  const loading = run(process.execPath, ["-e", `require(${JSON.stringify(name)})`], { cwd: project, env, timeout: 10000 });
  await assert.rejects(loading, (err) => {
    assert.match(err.message, /no native addon loads on this machine/);
    assert.ok(err.message.includes(`${prebuiltPackageName()} is version 0.0.0-other, not ${version}`), err.message);
    return true;
  });
});

test("without Rust and without the platform package, the install fails trying to build from source", async () => {
  const env = envWithoutRust();
  const project = emptyProject(packed().tmp, "no-rust-app");
  // --omit=optional leaves the platform package out, as npm does on a machine it does not fit.
  const install = run("npm", [...NPM_INSTALL, "--omit=optional", packed().main], { cwd: project, env, timeout: 40000 });
  await assert.rejects(install, (err) => {
    assert.match(err.output, /no prebuilt addon loads \(.*\); building from source/);
    assert.match(err.output, /could not run cargo \(is Rust installed\?\)/);
    return true;
  });
  assert.ok(!fs.existsSync(path.join(project, "node_modules", prebuiltPackageName())));
});
