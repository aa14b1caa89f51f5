"""Signaling: the WebSocket consumer, call state and presence for NumFree Caller."""
