"""Domain services of the sites app: plain async Python, no web framework."""
