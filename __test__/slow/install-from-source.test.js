/**
 * The source build an install falls back to, from the packed main package into an empty project
 * with Rust on the PATH and no platform package: the packed sources compile and the build serves.
 * A clean release build takes minutes, past `npm test`'s minute per file: `npm run test:slow`.
 */
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const { prebuiltPackageName } = require("../../lib/prebuilt");
const { name } = require("../../package.json");
const { NPM_INSTALL, run, usePackedRelease, emptyProject, exchangeEvents } = require("../support/install");

const packed = usePackedRelease();

test("with no platform package for the machine, the install builds the addon from source", async () => {
  const project = emptyProject(packed().tmp, "source-app");
  // --omit=optional leaves the platform package out, as npm does on a machine it does not fit.
  const install = [...NPM_INSTALL, "--omit=optional", packed().main];
  const { output } = await run("npm", install, { cwd: project, timeout: 540000 });
  assert.match(output, /no prebuilt addon loads \(.*\); building from source/);
  assert.ok(!fs.existsSync(path.join(project, "node_modules", prebuiltPackageName())));

  assert.deepStrictEqual(await exchangeEvents(project, process.env), {
    acks: [42, 42],
    addons: [path.join(project, "node_modules", name, "socket-io-rs.node")],
  });
});
