"""What backend adapters share: protocol, capabilities, connections, pools, URLs, selection."""
