// amzsync dashboard: manual syncs without a page load, and live progress.
// Every page works without this script; it only saves round trips.
//
// - A sync button posts with fetch; the answer is the kind's card (200), or the
//   card with the "already running" message (409), which replaces the old one.
// - A card whose task is pending or running (data-active="true") asks for its
//   fresh self every POLL_MS until the task has succeeded or failed.
(function () {
  "use strict";
  var POLL_MS = 1500;
  var FETCH_HEADERS = { "X-Amzsync-Fetch": "1" };

  function announce(card) {
    var live = document.getElementById("live-region");
    var title = card.querySelector("h3");
    var status = card.querySelector("[data-test=sync-status]");
    var notice = card.querySelector("[data-test=sync-notice]");
    if (live && title && status) {
      live.textContent = title.textContent + ": " + status.textContent + (notice ? ". " + notice.textContent : "");
    }
  }

  function replace(card, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (!fresh || !fresh.hasAttribute("data-kind-card")) return card;
    var hadFocus = card.contains(document.activeElement);
    card.replaceWith(fresh);
    if (hadFocus) {
      var button = fresh.querySelector("[data-test=sync-button]");
      if (button) button.focus();
    }
    return fresh;
  }

  function watch(card) {
    if (card.getAttribute("data-active") !== "true" || card.dataset.watched) return;
    card.dataset.watched = "1";
    window.setTimeout(function () {
      fetch(card.getAttribute("data-status-url"), { headers: FETCH_HEADERS, credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 401) { window.location.assign("/sign-in"); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (!document.body.contains(card)) return;
          if (html === null) { delete card.dataset.watched; watch(card); return; }
          var fresh = replace(card, html);
          if (fresh.getAttribute("data-active") !== "true") announce(fresh);
          watch(fresh);
        })
        .catch(function () { delete card.dataset.watched; watch(card); });
    }, POLL_MS);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-sync-form]")) return;
    var card = form.closest("[data-kind-card]");
    if (!card) return;
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", headers: FETCH_HEADERS, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/sign-in"); return null; }
        if (response.status !== 200 && response.status !== 409) { form.submit(); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = replace(card, html);
        announce(fresh);
        watch(fresh);
      })
      .catch(function () { if (button) button.disabled = false; });
  });

  document.querySelectorAll("[data-kind-card]").forEach(watch);
})();
