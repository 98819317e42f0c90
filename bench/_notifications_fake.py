"""The tests' fake SMS provider (`tests/fakes/fournisseur_sms.py`) as the outbox benchmark
runs it, with two fixes of its HTTP server (`http.server`) that make it answer as a
provider's front end would; nothing else changes: `python -m bench._notifications_fake
--port N`.

- Nagle's algorithm off on its sockets (`disable_nagle_algorithm`, TCP_NODELAY). Its
  handler writes an answer's headers and body in two sends; with Nagle on, the body waits
  for the ACK of the headers, which the client delays (Linux's delayed ACK, 40 ms): every
  answer on a kept-alive connection took about 44 ms more than the programmed latency
  (a send answered "at once" took 44.6 ms, 50 ms of latency made about 95 ms).
- A listen backlog of 128 connections instead of socketserver's 5: a worker opening more
  connections at once than that (more sends at once than its HTTP client keeps alive)
  found the accept queue full under load and got connections reset (`ReadError`).
"""

from __future__ import annotations

from tests.fakes import fournisseur_sms

BACKLOG = 128

if __name__ == "__main__":
    fournisseur_sms._Serveur.request_queue_size = BACKLOG
    fournisseur_sms._Gestionnaire.disable_nagle_algorithm = True
    fournisseur_sms.main()
