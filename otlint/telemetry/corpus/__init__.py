"""The Corpus (``corpus``) and its shards on disk (``shard``)."""
