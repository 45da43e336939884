"""Request-level defences shared by every domain: redirects, headers, sessions, outbound
calls and hostile input."""
