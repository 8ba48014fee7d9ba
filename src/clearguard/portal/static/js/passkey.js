// Passkey sign-in (WebAuthn): asks the server for options, lets the browser sign the challenge,
// and sends the credential back. Served as a file: the CSP allows no inline script.
(function () {
  "use strict";
  function b64urlToBytes(value) {
    var s = value.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var raw = atob(s), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }
  function bytesToB64url(buffer) {
    var bytes = new Uint8Array(buffer), s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (data) {
        // A recent second factor is needed first: the step-up page brings the user back here.
        if (data.step_up) { window.location.assign(data.step_up); }
        if (!r.ok) { throw new Error(data.error || ("refused (" + r.status + ")")); }
        return data;
      });
    });
  }
  function start(button) {
    var status = document.getElementById("passkey-status");
    if (!window.PublicKeyCredential) { status.textContent = "This browser has no passkey support."; return; }
    status.textContent = "Waiting for your passkey…";
    post(button.dataset.options).then(function (options) {
      var publicKey = Object.assign({}, options, { challenge: b64urlToBytes(options.challenge) });
      publicKey.allowCredentials = (options.allowCredentials || []).map(function (c) {
        return Object.assign({}, c, { id: b64urlToBytes(c.id) });
      });
      return navigator.credentials.get({ publicKey: publicKey });
    }).then(function (cred) {
      var r = cred.response;
      return post(button.dataset.verify, { credential: {
        id: cred.id, rawId: bytesToB64url(cred.rawId), type: cred.type,
        response: {
          clientDataJSON: bytesToB64url(r.clientDataJSON),
          authenticatorData: bytesToB64url(r.authenticatorData),
          signature: bytesToB64url(r.signature),
          userHandle: r.userHandle ? bytesToB64url(r.userHandle) : null
        },
        clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
      } });
    }).then(function (done) {
      window.location.assign(done.location || "/");
    }).catch(function (err) {
      status.textContent = "Passkey sign-in failed: " + err.message;
    });
  }
  function register(button) {
    var status = document.getElementById("passkey-status");
    if (!window.PublicKeyCredential) { status.textContent = "This browser has no passkey support."; return; }
    status.textContent = "Waiting for your authenticator…";
    post(button.dataset.options).then(function (options) {
      var publicKey = Object.assign({}, options, {
        challenge: b64urlToBytes(options.challenge),
        user: Object.assign({}, options.user, { id: b64urlToBytes(options.user.id) })
      });
      publicKey.excludeCredentials = (options.excludeCredentials || []).map(function (c) {
        return Object.assign({}, c, { id: b64urlToBytes(c.id) });
      });
      return navigator.credentials.create({ publicKey: publicKey });
    }).then(function (cred) {
      var r = cred.response;
      return post(button.dataset.verify, { credential: {
        id: cred.id, rawId: bytesToB64url(cred.rawId), type: cred.type,
        response: {
          clientDataJSON: bytesToB64url(r.clientDataJSON),
          attestationObject: bytesToB64url(r.attestationObject),
          transports: r.getTransports ? r.getTransports() : []
        },
        clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
      } });
    }).then(function (done) {
      window.location.assign(done.location || "/account");
    }).catch(function (err) {
      status.textContent = "Adding the passkey failed: " + err.message;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("#passkey-sign-in");
    if (button) { start(button); }
    var adding = event.target.closest("#passkey-register");
    if (adding) { register(adding); }
  });
}());
