// Checks a declaration's ledger receipt in the browser, trusting nothing the page says:
//  1. the receipt's checkpoint is signed (C2SP signed note, Ed25519 via WebCrypto) by the log key
//     published at /ledger/key, and the receipt's inclusion proof leads from the entry to its root
//     (RFC 9162 section 2.1.3.2, SHA-256 via WebCrypto);
//  2. the checkpoint the server publishes now (/ledger/checkpoint) is signed by the same key, and an
//     inclusion proof for the same entry, rebuilt here from the published tiles (C2SP tlog-tiles),
//     leads to that checkpoint's root.
(function () {
  "use strict";
  var enc = new TextEncoder();

  function b64(text) {
    var raw = atob(text.trim()), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function concat() {
    var total = 0, i, parts = Array.prototype.slice.call(arguments);
    for (i = 0; i < parts.length; i++) { total += parts[i].length; }
    var out = new Uint8Array(total), at = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], at); at += parts[i].length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
  async function leafHash(entry) { return sha256(concat(new Uint8Array([0]), entry)); }
  async function nodeHash(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }

  // ---- signed notes (C2SP signed-note) and the log's verifier key
  async function parseKey(text) {
    var s = text.trim(), a = s.indexOf("+"), b = s.indexOf("+", a + 1);
    if (a < 0 || b < 0) { throw new Error("the log key is not a verifier key"); }
    var name = s.slice(0, a), id = s.slice(a + 1, b), material = b64(s.slice(b + 1));
    if (material[0] !== 1 || material.length !== 33) { throw new Error("the log key is not an Ed25519 key"); }
    var computed = (await sha256(concat(enc.encode(name), new Uint8Array([10, 1]), material.slice(1)))).slice(0, 4);
    if (hex(computed) !== id.toLowerCase()) { throw new Error("the log key's id does not match its key"); }
    var key = await crypto.subtle.importKey("raw", material.slice(1), { name: "Ed25519" }, false, ["verify"]);
    return { name: name, id: computed, key: key };
  }
  async function openNote(note, vkey) {
    var split = note.indexOf("\n\n");
    if (split < 0) { throw new Error("the checkpoint is not a signed note"); }
    var body = note.slice(0, split + 1), lines = note.slice(split + 2).split("\n");
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (line.indexOf("\u2014 " + vkey.name + " ") !== 0) { continue; }
      var sig = b64(line.slice(vkey.name.length + 3));
      if (sig.length !== 68 || !equal(sig.slice(0, 4), vkey.id)) { continue; }
      if (await crypto.subtle.verify({ name: "Ed25519" }, vkey.key, sig.slice(4), enc.encode(body))) {
        var parts = body.split("\n");
        if (parts[0] !== vkey.name) { throw new Error("the checkpoint names another log"); }
        return { size: Number(parts[1]), root: b64(parts[2]) };
      }
      throw new Error("the checkpoint's signature is wrong");
    }
    throw new Error("the checkpoint is not signed by the log key");
  }

  // ---- RFC 9162 2.1.3.2: verify an inclusion proof
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (index >= size) { return false; }
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0) { return false; }
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  // ---- C2SP tlog-tiles: hashes of the tree of `size` leaves, read from /ledger/tile/...
  function tilePath(level, n, width) {
    var groups = [];
    do { groups.unshift(("00" + (n % 1000)).slice(-3)); n = Math.floor(n / 1000); } while (n > 0);
    var name = groups.map(function (g, i) { return i < groups.length - 1 ? "x" + g : g; }).join("/");
    return "/ledger/tile/" + level + "/" + name + (width < 256 ? ".p/" + width : "");
  }
  function Tiles(size) { this.size = size; this.cache = {}; }
  Tiles.prototype.tile = async function (level, n) {
    var key = level + "/" + n;
    if (!this.cache[key]) {
      var atLevel = Math.floor(this.size / Math.pow(256, level));
      var width = (n + 1) * 256 <= atLevel ? 256 : atLevel % 256;
      var answer = await fetch(tilePath(level, n, width), { credentials: "same-origin" });
      if (!answer.ok) { throw new Error("tile " + key + " not served (" + answer.status + ")"); }
      this.cache[key] = new Uint8Array(await answer.arrayBuffer());
    }
    return this.cache[key];
  };
  // The hash of the complete subtree of height k whose leftmost leaf is i * 2^k.
  Tiles.prototype.node = async function (k, i) {
    if (k % 8 === 0) {
      var tile = await this.tile(k / 8, Math.floor(i / 256)), at = (i % 256) * 32;
      if (tile.length < at + 32) { throw new Error("a tile is shorter than the tree needs"); }
      return tile.slice(at, at + 32);
    }
    return nodeHash(await this.node(k - 1, 2 * i), await this.node(k - 1, 2 * i + 1));
  };
  function split(n) { var k = 1; while (k * 2 < n) { k *= 2; } return k; }
  // RFC 9162 MTH over leaves [start, end).
  Tiles.prototype.mth = async function (start, end) {
    var n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) { return this.node(Math.log2(n), start / n); }
    var k = split(n);
    return nodeHash(await this.mth(start, start + k), await this.mth(start + k, end));
  };
  // RFC 9162 PATH(m, D[start:end]).
  Tiles.prototype.path = async function (m, start, end) {
    var n = end - start;
    if (n === 1) { return []; }
    var k = split(n);
    if (m - start < k) { return (await this.path(m, start, start + k)).concat([await this.mth(start + k, end)]); }
    return (await this.path(m, start + k, end)).concat([await this.mth(start, start + k)]);
  };

  async function text(url) {
    var answer = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!answer.ok) { throw new Error(url + " answered " + answer.status); }
    return answer.text();
  }

  async function verify(receipt) {
    var vkey = await parseKey(await text("/ledger/key"));
    var leaf = await leafHash(b64(receipt.entry));
    var signed = await openNote(receipt.checkpoint, vkey);
    var proof = receipt.inclusion_proof.map(b64);
    if (!(await verifyInclusion(receipt.index, signed.size, leaf, proof, signed.root))) {
      throw new Error("the receipt's inclusion proof does not lead to its checkpoint");
    }
    var published = await openNote(await text("/ledger/checkpoint"), vkey);
    if (published.size < signed.size) { throw new Error("the published checkpoint is older than the receipt"); }
    var tiles = new Tiles(published.size);
    var rebuilt = await tiles.path(receipt.index, 0, published.size);
    if (!(await verifyInclusion(receipt.index, published.size, leaf, rebuilt, published.root))) {
      throw new Error("the entry is not in the published tree");
    }
    return "Verified: entry " + receipt.index + " is in the log " + vkey.name + " (receipt checkpoint of " +
      signed.size + " entries; published checkpoint of " + published.size + " entries, proof rebuilt from its tiles).";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("#verify-receipt");
    if (!button) { return; }
    var out = document.getElementById("verify-result");
    out.className = "";
    out.textContent = "Checking…";
    verify(JSON.parse(button.dataset.receipt)).then(function (message) {
      out.className = "verified";
      out.textContent = message;
    }, function (err) {
      out.className = "failed";
      out.textContent = "Not verified: " + err.message;
    });
  });
}());
