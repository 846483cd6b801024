"""Local fake servers of the real APIs, faithful to their auth, paging, throttling and formats."""
