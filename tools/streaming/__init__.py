"""``make start-streaming``: start the environment's Managed Flink application after a deploy."""
