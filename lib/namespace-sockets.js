/**
 * A connection's sockets by namespace name (`client.nsps`, a Map upstream). Nearly every
 * connection joins one namespace: it is held in two fields, and a Map is made once a second one
 * joins (a Map for one entry cost ~250 bytes per connection). It reads as a Map does (`get`,
 * `has`, `size`, iteration), and iterating while deleting is as safe as with a Map.
 */
"use strict";

class NamespaceSockets {
  constructor() {
    /** The one namespace and its socket while no Map is made. */
    this._name = undefined;
    this._socket = undefined;
    /** Every entry, once a second namespace joined (it stays, as entries come and go). */
    this._map = null;
  }

  get size() {
    if (this._map) return this._map.size;
    return this._socket === undefined ? 0 : 1;
  }

  get(name) {
    if (this._map) return this._map.get(name);
    return name === this._name ? this._socket : undefined;
  }

  set(name, socket) {
    if (this._map) {
      this._map.set(name, socket);
    } else if (this._socket === undefined || name === this._name) {
      this._name = name;
      this._socket = socket;
    } else {
      this._map = new Map([
        [this._name, this._socket],
        [name, socket],
      ]);
      this._name = this._socket = undefined;
    }
    return this;
  }

  delete(name) {
    if (this._map) return this._map.delete(name);
    if (this._socket === undefined || name !== this._name) return false;
    this._name = this._socket = undefined;
    return true;
  }

  clear() {
    if (this._map) this._map.clear();
    this._name = this._socket = undefined;
  }

  has(name) {
    if (this._map) return this._map.has(name);
    return this._socket !== undefined && name === this._name;
  }

  values() {
    if (this._map) return this._map.values();
    return (this._socket === undefined ? [] : [this._socket]).values();
  }

  keys() {
    if (this._map) return this._map.keys();
    return (this._socket === undefined ? [] : [this._name]).values();
  }

  entries() {
    if (this._map) return this._map.entries();
    return (this._socket === undefined ? [] : [[this._name, this._socket]]).values();
  }

  forEach(callback, thisArg) {
    for (const [name, socket] of this.entries()) callback.call(thisArg, socket, name, this);
  }

  [Symbol.iterator]() {
    return this.entries();
  }
}

module.exports = { NamespaceSockets };
