"""The configuration rules (CF), over the facts the config readers extract."""
