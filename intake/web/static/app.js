// intake: the few behaviours the pages need, in plain JavaScript (no build step, no inline script).
// - forms: French messages for what the browser can check before sending (the server checks again);
// - dossier page: upload by drag and drop or file picker, size and type checked before sending,
//   progress, then live status by polling; confirmation before deleting an upload;
// - review page: page-by-page viewer with zoom, the box of each field drawn on the page, a click on a
//   field zooms to where its value was read; the page follows the school's uploads.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // --- confirmation before a destructive form (works for forms swapped in later too) -------------
  document.addEventListener("submit", function (e) {
    var message = e.target && e.target.dataset ? e.target.dataset.confirm : null;
    if (message && !window.confirm(message)) e.preventDefault();
  }, true);

  // --- replacing an upload: the new file is sent as soon as it is chosen (checked first, as uploads are) --
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!el || !el.matches || !el.matches("input[type=file][data-autosubmit]") || !el.files.length) return;
    var upload = document.getElementById("upload-form");
    var problem = upload ? checkFile(el.files[0], upload) : null;
    if (problem) { window.alert(problem); el.value = ""; return; }
    el.form.submit();
  });

  // --- form validation with French messages ------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("form[data-validate]"), function (form) {
    var box = form.querySelector("#form-errors");
    var nameOf = function (el) {
      var label = el.closest("label");
      if (!label) return el.name;
      var text = "";
      for (var i = 0; i < label.childNodes.length; i++) {
        if (label.childNodes[i].nodeType === 3) text += label.childNodes[i].textContent;
      }
      var legend = el.closest("fieldset") && el.closest("fieldset").querySelector("legend");
      text = text.replace("*", "").trim();
      return legend && /Hébergeant|Représentant/.test(legend.textContent) ? text + " (" + legend.textContent + ")" : text;
    };
    var explain = function (el) {
      var v = el.validity;
      if (v.valueMissing) return "à remplir";
      if (el.dataset.message && (v.patternMismatch || v.typeMismatch || v.rangeOverflow || v.rangeUnderflow || v.customError)) return el.dataset.message;
      if (v.typeMismatch) return "valeur invalide";
      if (v.tooLong) return "trop long";
      return "valeur invalide";
    };
    form.addEventListener("submit", function (e) {
      var problems = [];
      Array.prototype.forEach.call(form.querySelectorAll("input, select, textarea"), function (el) {
        var label = el.closest("label");
        if (el.willValidate && !el.checkValidity()) {
          problems.push({ el: el, text: "« " + nameOf(el) + " » : " + explain(el) });
          if (label) label.classList.add("bad");
        } else if (label && el.type !== "hidden") {
          label.classList.remove("bad");
        }
      });
      if (!form.querySelector('input[name="categories"]:checked') && form.querySelector('input[name="categories"]')) {
        problems.push({ el: form.querySelector('input[name="categories"]'), text: "« Catégories » : en choisir au moins une" });
      }
      if (problems.length) {
        e.preventDefault();
        if (box) {
          box.textContent = "À corriger avant d'envoyer : " + problems.map(function (p) { return p.text; }).join(" ; ") + ".";
          box.hidden = false;
        }
        var details = problems[0].el.closest("details");
        if (details) details.open = true;
        problems[0].el.focus();
      }
    });
  });

  // --- upload: several files at once, by drag and drop or file picker ---------------------------
  var ACCEPTED = /\.(jpe?g|png|tiff?|webp|pdf)$/i;
  var ACCEPTED_TYPES = /^(image\/(jpeg|png|tiff|webp)|application\/pdf)$/;
  var mb = function (n) { return (n / (1024 * 1024)).toFixed(1).replace(".", ",") + " Mo"; };
  // Why a file is not sent (null: it may be): the limits are the server's, checked again there.
  function checkFile(f, upload) {
    var maxBytes = parseInt(upload.dataset.maxBytes, 10) || 0;
    if (maxBytes && f.size > maxBytes) return "« " + f.name + " » n'est pas envoyé : fichier trop volumineux (" + mb(f.size) + ", au plus " + upload.dataset.maxLabel + ").";
    if (f.size === 0) return "« " + f.name + " » n'est pas envoyé : le fichier est vide.";
    if (!ACCEPTED.test(f.name) && !ACCEPTED_TYPES.test(f.type)) return "« " + f.name + " » n'est pas envoyé : type de fichier non accepté (JPEG, PNG, TIFF, WebP ou PDF).";
    return null;
  }
  var live = { kick: function () {} };
  var form = document.getElementById("upload-form");
  if (form) {
    var input = document.getElementById("file-input");
    var list = document.getElementById("upload-list");
    var maxFiles = parseInt(form.dataset.maxFiles, 10) || 0;
    var refuse = function (text) {
      var item = document.createElement("li");
      item.className = "err";
      item.textContent = text;
      list.appendChild(item);
    };
    var send = function (files) {
      if (!files || !files.length) return;
      var data = new FormData();
      var names = [];
      for (var i = 0; i < files.length; i++) {
        var f = files[i];
        var problem = checkFile(f, form);
        if (problem) {
          refuse(problem);
        } else {
          data.append("files", f, f.name);
          names.push(f.name);
        }
      }
      if (!names.length) return;
      if (maxFiles && names.length > maxFiles) {
        refuse("Trop de fichiers à la fois (au plus " + maxFiles + ").");
        return;
      }
      var item = document.createElement("li");
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

  // --- polling: the small JSON state, compared with the signature the page was rendered from -------
  var watch = function (box, onChange) {
    var signature = box.dataset.signature || null, timer = null, idle = 0;
    var poll = function () {
      fetch(box.dataset.stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (!state) return;
          var changed = state.signature !== signature;
          signature = state.signature;
          idle = state.settled ? idle + 1 : 0;
          if (changed) return onChange(state);
        })
        .catch(function () { /* network hiccup: try again at the next tick */ })
        .then(function () {
          // Fast while uploads are read, slower once settled (someone else may still act).
          timer = setTimeout(poll, idle > 3 ? 4000 : 1500);
        });
    };
    poll();
    return function () { clearTimeout(timer); idle = 0; poll(); };
  };

  // School's dossier page: swap the live part (requests, status, findings, uploads) when it changes.
  var liveBox = document.getElementById("live");
  if (liveBox) {
    live.kick = watch(liveBox, function () {
      return fetch(liveBox.dataset.fragmentUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) liveBox.innerHTML = html; });
    });
  }

  // Reviewer's page: reload when the school uploads or the check ends, unless a note is being typed.
  var reviewBox = document.getElementById("review-live");
  if (reviewBox) {
    var banner = document.getElementById("changed-banner");
    var typing = function () {
      var fields = document.querySelectorAll("form.decide textarea, form.decide input[name=note]");
      for (var i = 0; i < fields.length; i++) {
        if (fields[i] === document.activeElement) return true;
        if (fields[i].value && fields[i].value !== fields[i].defaultValue) return true;
      }
      return false;
    };
    document.getElementById("reload-now").addEventListener("click", function () { window.location.reload(); });
    watch(reviewBox, function () {
      if (typing()) { banner.hidden = false; } else { window.location.reload(); }
    });
  }

  // --- review: page-by-page viewer, zoom, boxes of the fields -------------------------------------
  var SVG = "http://www.w3.org/2000/svg";
  Array.prototype.forEach.call(document.querySelectorAll("figure.viewer"), function (fig) {
    var img = fig.querySelector("img");
    if (!img) return;
    var section = fig.closest("section.upload") || document;
    var stage = fig.querySelector(".stage");
    var viewport = fig.querySelector(".viewport");
    var svg = fig.querySelector("svg.boxes");
    var frames = {};
    try { frames = JSON.parse(fig.dataset.frames || "{}"); } catch (e) { frames = {}; }
    var pages = parseInt(fig.dataset.pages, 10) || 1, page = 1, zoom = 1;
    var label = fig.querySelector(".page-no");
    var rows = section.querySelectorAll("tr[data-box]");

    var boxOf = function (row) { return row.dataset.box.split(",").map(Number); };
    var draw = function () {
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      var frame = frames[String(page)];
      if (!frame) { svg.style.display = "none"; return; }
      svg.style.display = "";
      svg.setAttribute("viewBox", "0 0 " + frame.width + " " + frame.height);
      Array.prototype.forEach.call(rows, function (row) {
        if (parseInt(row.dataset.page, 10) !== page) return;
        var b = boxOf(row);
        var rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("x", b[0]); rect.setAttribute("y", b[1]);
        rect.setAttribute("width", b[2]); rect.setAttribute("height", b[3]);
        rect.setAttribute("class", "field-box" + (row.classList.contains("differs") ? " differs" : ""));
        rect.setAttribute("data-field", row.dataset.field);
        rect.setAttribute("vector-effect", "non-scaling-stroke");
        var title = document.createElementNS(SVG, "title");
        title.textContent = row.querySelector("td").textContent.trim();
        rect.appendChild(title);
        svg.appendChild(rect);
      });
    };
    var show = function (n, then) {
      page = n;
      var frame = frames[String(page)];
      var src = "/uploads/" + fig.dataset.upload + "/pages/" + page + ".png" + (frame && frame.rotation ? "?tour=" + frame.rotation : "");
      label.textContent = page;
      img.alt = "Page " + page;
      draw();
      if (img.getAttribute("src") === src && img.complete) { if (then) then(); return; }
      img.onload = function () { img.onload = null; if (then) then(); };
      img.src = src;
    };
    var scale = function (z) {
      zoom = Math.max(1, Math.min(8, z));
      stage.style.width = (100 * zoom) + "%";
      img.style.cursor = zoom >= 8 ? "zoom-out" : "zoom-in";
    };
    var locate = function (row) {
      var target = parseInt(row.dataset.page, 10) || 1;
      var b = boxOf(row);
      show(target, function () {
        var frame = frames[String(target)];
        if (!frame) return;
        scale(0.6 * frame.width / Math.max(b[2], 1));
        var s = stage.clientWidth / frame.width;
        viewport.scrollLeft = Math.max(0, (b[0] + b[2] / 2) * s - viewport.clientWidth / 2);
        viewport.scrollTop = Math.max(0, (b[1] + b[3] / 2) * s - viewport.clientHeight / 2);
        Array.prototype.forEach.call(svg.querySelectorAll("rect"), function (r) {
          r.classList.toggle("active", r.getAttribute("data-field") === row.dataset.field);
        });
        Array.prototype.forEach.call(rows, function (r) { r.classList.toggle("located", r === row); });
        fig.scrollIntoView({ block: "nearest" });
      });
    };
    fig.querySelector(".prev").addEventListener("click", function () { if (page > 1) show(page - 1); });
    fig.querySelector(".next").addEventListener("click", function () { if (page < pages) show(page + 1); });
    fig.querySelector(".zoom-in").addEventListener("click", function () { scale(zoom * 1.5); });
    fig.querySelector(".zoom-out").addEventListener("click", function () { scale(zoom / 1.5); });
    img.addEventListener("click", function () { scale(zoom >= 8 ? 1 : zoom * 2); });
    Array.prototype.forEach.call(rows, function (row) {
      var button = row.querySelector("button.locate");
      if (button) button.addEventListener("click", function () { locate(row); });
    });
    draw();
  });
})();
