"""Chat logic: neutral messages in, domain writes and replies out. Knows nothing of HTTP."""
