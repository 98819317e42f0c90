/* A websocket that stays connected: pings every 25 s, reconnects with exponential backoff
   (1 s, 2 s, 4 s… at most 30 s), and stops on 4401/4403 (unknown or refused: the page decides).
   The server sends the full state first on every (re)connection, so nothing is missed. */
(function () {
  "use strict";

  var PING_MS = 25000;
  var DELAI_MAX_MS = 30000;

  function connecter(chemin, options) {
    var delai = 1000;
    var socket = null;
    var ping = null;
    var arrete = false;

    function adresse() {
      var schema = window.location.protocol === "https:" ? "wss://" : "ws://";
      return schema + window.location.host + chemin;
    }

    function signaler(enLigne) {
      // Also for styles and tests: <html data-direct="connecte|hors-ligne">.
      document.documentElement.setAttribute("data-direct", enLigne ? "connecte" : "hors-ligne");
      if (options.enLigne) { options.enLigne(enLigne); }
    }

    function ouvrir() {
      try {
        socket = new WebSocket(adresse());
      } catch (erreur) {
        plusTard();
        return;
      }
      socket.onopen = function () {
        delai = 1000;
        signaler(true);
        ping = window.setInterval(function () {
          if (socket.readyState === WebSocket.OPEN) {
            socket.send(JSON.stringify({ type: "ping" }));
          }
        }, PING_MS);
      };
      socket.onmessage = function (evenement) {
        var message;
        try { message = JSON.parse(evenement.data); } catch (erreur) { return; }
        if (message && message.type !== "pong") { options.message(message); }
      };
      socket.onclose = function (evenement) {
        window.clearInterval(ping);
        if (arrete) { return; }
        signaler(false);
        if (evenement.code === 4401 || evenement.code === 4403) {
          if (options.refuse) { options.refuse(evenement.code); }
          return;
        }
        plusTard();
      };
    }

    function plusTard() {
      // A little randomness so that the screens of a site do not all come back at once.
      window.setTimeout(ouvrir, delai + Math.random() * delai * 0.2);
      delai = Math.min(delai * 2, DELAI_MAX_MS);
    }

    ouvrir();
    return {
      fermer: function () { arrete = true; if (socket) { socket.close(); } }
    };
  }

  window.Direct = { connecter: connecter };
})();
