"""Providers of SMS and e-mail behind one small interface (see `base`)."""
