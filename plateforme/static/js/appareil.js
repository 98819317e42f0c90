/* The pairing page of a kiosk or a screen asks again every few seconds until it is paired
   (the same as its <noscript> meta refresh, which accessibility checkers flag when scripted). */
(function () {
  "use strict";
  var bloc = document.querySelector("[data-recharger]");
  if (!bloc) { return; }
  var secondes = parseInt(bloc.getAttribute("data-recharger"), 10) || 5;
  window.setTimeout(function () { window.location.reload(); }, secondes * 1000);
})();
