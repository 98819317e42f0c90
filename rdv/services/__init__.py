"""Domain services of the rdv app: plain async Python, no web framework."""
