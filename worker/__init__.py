"""replay worker: RQ jobs that move buffered batches to object storage and index them."""
