"""Server-side evidence of a recorded call: the proxy's lines joined to it, and the cause they confirm."""
