/* A ticket's public page follows the ticket live: its place, the estimated wait, and the
   counter to go to once called (announced to screen readers, with a vibration on phones). */
(function () {
  "use strict";

  var suivi = document.getElementById("suivi");
  if (!suivi || !window.Direct) { return; }
  var statut = suivi.getAttribute("data-statut");
  var jeton = suivi.getAttribute("data-jeton");
  var champs = {
    statut: document.getElementById("statut"),
    attente: document.getElementById("bloc-attente"),
    devant: document.getElementById("devant"),
    minutes: document.getElementById("attente"),
    appel: document.getElementById("bloc-appel"),
    message: document.getElementById("message-appel"),
    annuler: document.getElementById("form-annuler"),
    annonce: document.getElementById("annonce")
  };

  function devant(n) {
    if (n === 0) { return "Personne n'est devant vous."; }
    if (n === 1) { return "1 personne est devant vous."; }
    return n + " personnes sont devant vous.";
  }

  function messageAppel(etat) {
    var guichet = document.createElement("strong");
    guichet.textContent = etat.guichet;
    champs.message.textContent = etat.statut === "appele"
      ? "C'est votre tour : allez au guichet " : "Vous êtes reçu au guichet ";
    champs.message.appendChild(guichet);
    champs.message.appendChild(document.createTextNode("."));
  }

  function appliquer(etat) {
    if (etat.type !== "ticket") { return; }
    champs.statut.textContent = etat.statut_libelle;
    var attend = etat.statut === "en_attente";
    champs.attente.hidden = !attend;
    champs.annuler.hidden = !attend;
    if (attend) {
      champs.devant.textContent = devant(etat.devant);
      champs.minutes.textContent = String(etat.attente_minutes);
    }
    champs.appel.hidden = !etat.guichet;
    if (etat.guichet) { messageAppel(etat); }
    if (etat.statut !== statut) {
      if (etat.statut === "appele") {
        champs.annonce.textContent = "C'est votre tour : guichet " + etat.guichet + ".";
        document.title = "À vous ! " + document.title;
        if (navigator.vibrate) { navigator.vibrate([300, 150, 300]); }
      } else {
        champs.annonce.textContent = etat.statut_libelle + ".";
      }
      statut = etat.statut;
    }
  }

  window.Direct.connecter("/ws/tickets/" + encodeURIComponent(jeton), { message: appliquer });
})();
