/**
 * The `debug` package's settings, shared with the Rust core: its lines (engine sessions,
 * transports, recovery, packet framing) are printed under upstream's namespaces when `debug`
 * enables them, as lib/'s own lines are.
 */
"use strict";

const createDebug = require("debug");
const { configureLogs, logNamespaces } = require("./native");

/** The namespaces the Rust core logs under (`crate::logs::NAMESPACES`). */
const RUST_NAMESPACES = logNamespaces();

/**
 * Tells the core which of its namespaces are enabled now, and how `debug` prints each (color,
 * date), so that its lines look like lib/'s. Read once per server: a later `debug.enable()`
 * reaches the core with the next server created.
 */
function shareDebugSettings() {
  const enabled = [];
  for (const namespace of RUST_NAMESPACES) {
    if (!createDebug.enabled(namespace)) continue;
    const instance = createDebug(namespace);
    enabled.push({ namespace, color: Number(instance.color), useColors: Boolean(instance.useColors) });
  }
  configureLogs(enabled, Boolean(createDebug.inspectOpts && createDebug.inspectOpts.hideDate));
}

module.exports = { shareDebugSettings };
