"""Search everywhere: one box (and Ctrl-K) over the portal's main objects."""
