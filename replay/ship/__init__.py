"""The log shipper (`replay logs ship`): a client of the collector's HTTP API, run on the nginx host."""
