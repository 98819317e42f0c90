"""Motifs, plages d'ouverture, absences, usagers, rdvs, the slot engine, booking, agenda and ICS."""
