/* The waiting-room screen: applies the site's live events to the page drawn by the server,
   rings a chime and speaks each call ("Ticket A 0 4 2, guichet 3"), shows when it is offline
   and redraws everything from the state the server sends on each reconnection.
   Only ticket codes, counters and counts ever reach it (no personal data). */
(function () {
  "use strict";

  var APPELS_MAX = 8;
  var dernier = document.getElementById("dernier-appel");
  var precedents = document.getElementById("appels-precedents");
  var horsLigne = document.getElementById("hors-ligne");
  var annonce = document.getElementById("annonce");
  var boutonSon = document.getElementById("activer-son");
  var horloge = document.getElementById("horloge");
  var initial = JSON.parse(document.getElementById("etat-initial").textContent);
  var appels = initial.appels.slice(0, APPELS_MAX);
  var audio = null;
  var annonces = Promise.resolve();

  function deuxChiffres(n) { return (n < 10 ? "0" : "") + n; }
  function tic() {
    var maintenant = new Date();
    horloge.textContent = deuxChiffres(maintenant.getHours()) + ":" + deuxChiffres(maintenant.getMinutes());
  }
  horloge.hidden = false;
  tic();
  window.setInterval(tic, 10000);

  function span(classe, texte) {
    var element = document.createElement("span");
    element.className = classe;
    element.textContent = texte;
    return element;
  }

  function remplirAppel(element, appel, fleche) {
    element.className = "appel";
    element.appendChild(span("appel-ticket", appel.ticket));
    element.appendChild(document.createTextNode(" "));
    if (fleche) {
      var signe = span("appel-fleche", "→");
      signe.setAttribute("aria-hidden", "true");
      element.appendChild(signe);
      element.appendChild(document.createTextNode(" "));
    }
    element.appendChild(span("appel-guichet", "Guichet " + appel.guichet));
    return element;
  }

  function afficherAppels(nouveau) {
    dernier.textContent = "";
    if (!appels.length) {
      var vide = document.createElement("p");
      vide.className = "ecran-vide";
      vide.textContent = "Aucun appel pour le moment.";
      dernier.appendChild(vide);
    } else {
      var ligne = remplirAppel(document.createElement("p"), appels[0], true);
      if (nouveau) { ligne.classList.add("appel-nouveau"); }
      dernier.appendChild(ligne);
    }
    precedents.textContent = "";
    appels.slice(1).forEach(function (appel) {
      precedents.appendChild(remplirAppel(document.createElement("li"), appel, false));
    });
  }

  function compter(parFile) {
    document.querySelectorAll("[data-attente-file]").forEach(function (element) {
      element.textContent = String(parFile[element.getAttribute("data-attente-file")] || 0);
    });
  }

  function carillon() {
    return new Promise(function (fini) {
      var Contexte = window.AudioContext || window.webkitAudioContext;
      if (!Contexte) { fini(); return; }
      audio = audio || new Contexte();
      if (audio.state === "suspended") { audio.resume(); }
      var debut = audio.currentTime + 0.05;
      [659.25, 880].forEach(function (frequence, i) {
        var oscillateur = audio.createOscillator();
        var volume = audio.createGain();
        var t = debut + i * 0.35;
        oscillateur.type = "sine";
        oscillateur.frequency.value = frequence;
        volume.gain.setValueAtTime(0.0001, t);
        volume.gain.exponentialRampToValueAtTime(0.4, t + 0.02);
        volume.gain.exponentialRampToValueAtTime(0.0001, t + 0.6);
        oscillateur.connect(volume);
        volume.connect(audio.destination);
        oscillateur.start(t);
        oscillateur.stop(t + 0.65);
      });
      window.setTimeout(fini, 1000);
    });
  }

  function parler(texte) {
    return new Promise(function (fini) {
      if (!("speechSynthesis" in window)) { fini(); return; }
      var phrase = new SpeechSynthesisUtterance(texte);
      phrase.lang = "fr-FR";
      phrase.rate = 0.9;
      var voix = window.speechSynthesis.getVoices().filter(function (v) { return /^fr/i.test(v.lang); });
      if (voix.length) { phrase.voice = voix[0]; }
      phrase.onend = fini;
      phrase.onerror = fini;
      window.speechSynthesis.speak(phrase);
      // A silent speech engine must not hold the next calls back.
      window.setTimeout(fini, 8000);
    });
  }

  function annoncer(appel) {
    annonce.textContent = "Ticket " + appel.ticket + ", guichet " + appel.guichet;
    // "A042" is read letter by letter: "A 0 4 2", not "A quarante-deux".
    var dit = "Ticket " + appel.ticket.split("").join(" ") + ", guichet " + appel.guichet;
    annonces = annonces.then(carillon).then(function () { return parler(dit); });
  }

  function dejaVu(evenement) {
    return appels.some(function (appel) {
      return appel.ticket === evenement.ticket && Date.parse(appel.at) === Date.parse(evenement.at);
    });
  }

  function appliquer(message) {
    if (message.type === "etat") {
      appels = message.appels.slice(0, APPELS_MAX);
      afficherAppels(false);
      var parFile = {};
      message.files.forEach(function (file) { parFile[String(file.id)] = file.en_attente; });
      compter(parFile);
      return;
    }
    if (message.en_attente) { compter(message.en_attente); }
    if (message.type === "ticket.appele" || message.type === "ticket.rappele") {
      // The state read on (re)connection may already hold this call.
      if (message.type === "ticket.appele" && dejaVu(message)) { return; }
      var appel = { ticket: message.ticket, guichet: message.guichet, at: message.at };
      appels = [appel].concat(appels.filter(function (a) { return a.ticket !== appel.ticket; }));
      appels = appels.slice(0, APPELS_MAX);
      afficherAppels(true);
      annoncer(appel);
    }
  }

  // Browsers keep sound off until someone touches the page: offer the button when they do.
  var Contexte = window.AudioContext || window.webkitAudioContext;
  if (Contexte) {
    audio = new Contexte();
    if (audio.state === "suspended") { boutonSon.hidden = false; }
  }
  boutonSon.addEventListener("click", function () {
    if (audio) { audio.resume(); }
    boutonSon.hidden = true;
  });

  window.Direct.connecter("/ws/appareil", {
    message: appliquer,
    enLigne: function (enLigne) { horsLigne.hidden = enLigne; },
    // Unpaired or revoked: the page itself says what to do.
    refuse: function () { window.setTimeout(function () { window.location.reload(); }, 5000); }
  });
})();
