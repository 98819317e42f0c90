/* The counter console: every event of the site redraws the waiting list and the counters
   (a fragment rendered by the server), so that all consoles of the site stay in step. */
(function () {
  "use strict";

  var zone = document.getElementById("attente");
  if (!zone || !window.Direct) { return; }
  var site = zone.getAttribute("data-site");
  var horsLigne = document.getElementById("hors-ligne");
  var annonce = document.getElementById("annonce");
  var prevu = null;
  var enCours = false;
  var encore = false;

  function rafraichir() {
    prevu = null;
    if (enCours) { encore = true; return; }
    enCours = true;
    window.fetch("/guichet/" + site + "/attente", {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (reponse) {
      if (reponse.status === 401 || reponse.redirected) { window.location.reload(); return null; }
      return reponse.ok ? reponse.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      // Keep the focus on the same button when the list is redrawn under it.
      var actif = document.activeElement;
      var focus = actif && zone.contains(actif) ? actif.id : "";
      zone.innerHTML = html;
      if (focus && document.getElementById(focus)) { document.getElementById(focus).focus(); }
    }).catch(function () { /* the next event or reconnection redraws it */ })
      .then(function () {
        enCours = false;
        if (encore) { encore = false; planifier(); }
      });
  }

  function planifier() {
    // Events come in bursts (a call changes counts and a counter): one redraw for them.
    if (prevu === null) { prevu = window.setTimeout(rafraichir, 150); }
  }

  window.Direct.connecter("/ws/sites/" + site + "/guichets", {
    message: function (message) {
      if (message.type === "ticket.emis") { annonce.textContent = "Nouveau ticket " + message.ticket + "."; }
      planifier();
    },
    enLigne: function (enLigne) { horsLigne.hidden = enLigne; },
    refuse: function () { window.location.reload(); }
  });
})();
