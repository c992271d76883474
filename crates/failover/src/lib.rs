//! radix-failover: keys, config, the failover transaction, and (later) the watch loop.
