"""SMS and e-mails: the outbox, its providers, message texts, reminders, STOP, retention."""
