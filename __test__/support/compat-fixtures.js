/** Fake upstream repositories for the self-checks of the compat harnesses, and a bounded run of a harness. */
"use strict";

const test = require("node:test");
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const REPO = path.resolve(__dirname, "..", "..");

/** A new temp dir, removed after the test file's tests. */
function scratchDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` ({ relative path: text }) under `dir`, each text less its leading white space. */
function writeFiles(dir, files) {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text.trimStart());
  }
}

/** Runs git in `dir` as a fixed committer; returns its output, trimmed. */
function git(dir, ...args) {
  return execFileSync("git", ["-c", "user.name=compat", "-c", "user.email=compat@example.invalid", ...args], {
    cwd: dir,
    stdio: "pipe",
  })
    .toString()
    .trim();
}

/** Makes `dir` a git repository with one commit for each of `commits`, in order. */
function makeGitRepo(dir, commits) {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q");
  for (const { message, files } of commits) {
    writeFiles(dir, files);
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", message);
  }
}

/**
 * Runs compat/<script> with `args` (and `env` over this process's environment); kills its whole
 * process group if it outlives `limitMs`. Resolves to its exit code and its output, whole and by line.
 */
function runHarness(script, args, { env = {}, limitMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [path.join(REPO, "compat", script), ...args], {
      env: { ...process.env, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      reject(new Error(`harness did not finish within ${limitMs} ms; output so far:\n${out}`));
    }, limitMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, lines: out.trimEnd().split("\n") });
    });
  });
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

module.exports = { REPO, scratchDir, git, makeGitRepo, runHarness, escapeRegExp };
