/* The kiosk: live waiting counts, a QR scanner typing anywhere lands in the code field,
   the print button, and the way back home after a ticket (postponed while someone touches). */
(function () {
  "use strict";

  // Print: shown only where a script can print.
  var imprimer = document.querySelector("[data-imprimer]");
  if (imprimer) {
    imprimer.hidden = false;
    imprimer.addEventListener("click", function () { window.print(); });
  }

  // Back to the home page (in French, for the next person) after a ticket.
  var retour = document.querySelector("[data-retour]");
  if (retour) {
    var secondes = parseInt(retour.getAttribute("data-retour"), 10) || 20;
    var minuterie = null;
    var armer = function () {
      window.clearTimeout(minuterie);
      minuterie = window.setTimeout(function () { window.location.assign("/borne"); }, secondes * 1000);
    };
    ["pointerdown", "keydown"].forEach(function (nom) { document.addEventListener(nom, armer); });
    armer();
    return;
  }

  // A scanner is a keyboard: what it types outside a field goes to the code field.
  var champ = document.getElementById("code");
  if (champ) {
    document.addEventListener("keydown", function (evenement) {
      var cible = evenement.target;
      if (cible === champ || (cible && /^(INPUT|TEXTAREA|SELECT)$/.test(cible.tagName))) { return; }
      if (evenement.ctrlKey || evenement.metaKey || evenement.altKey) { return; }
      if (evenement.key && evenement.key.length === 1) {
        evenement.preventDefault();
        champ.value += evenement.key;
        champ.focus();
      }
    });
  }

  // Waiting counts follow the site's events; an idle kiosk redraws itself every 5 minutes
  // (queues open and close with the hours), never while someone is typing a code.
  var compteurs = document.querySelectorAll("[data-attente-file]");
  var libelles = document.querySelector("[data-libelles-attente]");
  function phrase(n) {
    if (!libelles) { return String(n); }
    var forme = n === 0 ? "0" : n === 1 ? "1" : "n";
    return libelles.getAttribute("data-attente-" + forme).replace("{n}", String(n));
  }
  function compter(enAttente) {
    compteurs.forEach(function (element) {
      var n = enAttente[element.getAttribute("data-attente-file")] || 0;
      element.textContent = phrase(n);
    });
  }
  if (compteurs.length && window.Direct) {
    window.Direct.connecter("/ws/appareil", {
      message: function (message) {
        if (message.type === "etat") {
          var parFile = {};
          message.files.forEach(function (file) { parFile[String(file.id)] = file.en_attente; });
          compter(parFile);
        } else if (message.en_attente) {
          compter(message.en_attente);
        }
      },
      refuse: function () { window.setTimeout(function () { window.location.reload(); }, 5000); }
    });
  }
  var calme = Date.now();
  document.addEventListener("pointerdown", function () { calme = Date.now(); });
  document.addEventListener("keydown", function () { calme = Date.now(); });
  window.setInterval(function () {
    if (Date.now() - calme > 60000 && !(champ && champ.value)) { window.location.reload(); }
  }, 300000);
})();
