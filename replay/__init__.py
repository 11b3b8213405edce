"""replay: self-hosted session replay for failed network calls."""
