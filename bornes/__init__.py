"""Devices of a site, kiosks (bornes) and waiting-room displays (écrans): pairing, tokens,
heartbeat, their pages and their websocket endpoints."""
