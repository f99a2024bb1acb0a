// intake: the few behaviours the pages need, in plain JavaScript (no build step).
// - dossier page: drag and drop / file picker upload with progress, then live status by polling;
// - review page: page-by-page viewer with zoom.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // --- upload: several files at once, by drag and drop or file picker ---------------------------
  var form = document.getElementById("upload-form");
  if (form) {
    var input = document.getElementById("file-input");
    var list = document.getElementById("upload-list");
    var send = function (files) {
      if (!files || !files.length) return;
      var data = new FormData();
      var item = document.createElement("li");
      var names = [];
      for (var i = 0; i < files.length; i++) { data.append("files", files[i], files[i].name); names.push(files[i].name); }
      item.textContent = "Envoi de " + names.join(", ") + "…";
      list.appendChild(item);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) item.textContent = "Envoi de " + names.join(", ") + " : " + Math.round(100 * e.loaded / e.total) + " %";
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          item.textContent = names.length + " fichier(s) reçu(s) : " + names.join(", ") + ".";
          live.kick();
        } else {
          var message = "échec de l'envoi";
          try { message = JSON.parse(xhr.responseText).detail || message; } catch (e) { /* not JSON */ }
          item.textContent = names.join(", ") + " : " + message;
          item.className = "err";
        }
      };
      xhr.onerror = function () { item.textContent = names.join(", ") + " : connexion perdue, réessayer."; item.className = "err"; };
      xhr.send(data);
    };
    input.addEventListener("change", function () { send(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (type) {
      form.addEventListener(type, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      form.addEventListener(type, function (e) { e.preventDefault(); form.classList.remove("over"); });
    });
    form.addEventListener("drop", function (e) { send(e.dataTransfer.files); });
  }

  // --- live status: poll the small JSON answer, swap the fragment when it changes ---------------
  var liveBox = document.getElementById("live");
  var live = { kick: function () {} };
  if (liveBox) {
    // The state the page was rendered from: any difference means the page is out of date.
    var signature = liveBox.dataset.signature || null, timer = null, idle = 0;
    var refresh = function () {
      return fetch(liveBox.dataset.fragmentUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) liveBox.innerHTML = html; });
    };
    var poll = function () {
      fetch(liveBox.dataset.stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (!state) return;
          var changed = state.signature !== signature;
          signature = state.signature;
          idle = state.settled ? idle + 1 : 0;
          if (changed) return refresh();
        })
        .catch(function () { /* network hiccup: try again at the next tick */ })
        .then(function () {
          // Fast while pieces are read, slower once settled (a reviewer may still act).
          timer = setTimeout(poll, idle > 3 ? 5000 : 1500);
        });
    };
    live.kick = function () { clearTimeout(timer); idle = 0; poll(); };
    poll();
  }

  // --- review: page-by-page viewer with zoom ---------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("figure.viewer"), function (fig) {
    var img = fig.querySelector("img");
    if (!img) return;
    var pages = parseInt(fig.dataset.pages, 10) || 1, page = 1, zoom = 1;
    var label = fig.querySelector(".page-no");
    var show = function () {
      img.src = "/pieces/" + fig.dataset.upload + "/pages/" + page + ".png";
      img.alt = "Page " + page;
      label.textContent = page;
    };
    var scale = function (z) {
      zoom = Math.max(1, Math.min(4, z));
      img.style.width = (100 * zoom) + "%";
      img.style.cursor = zoom >= 4 ? "zoom-out" : "zoom-in";
    };
    fig.querySelector(".prev").addEventListener("click", function () { if (page > 1) { page--; show(); } });
    fig.querySelector(".next").addEventListener("click", function () { if (page < pages) { page++; show(); } });
    fig.querySelector(".zoom-in").addEventListener("click", function () { scale(zoom * 1.5); });
    fig.querySelector(".zoom-out").addEventListener("click", function () { scale(zoom / 1.5); });
    img.addEventListener("click", function () { scale(zoom >= 4 ? 1 : zoom * 2); });
  });
})();
