"""Walk-in queues (files d'attente), tickets, counters (guichets), the call policy and wait
estimates, the ticket event log, and the counter console."""
