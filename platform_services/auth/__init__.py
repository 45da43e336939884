"""Auth service: tenant identity, users, API keys, RS256 JWTs signed with keys held in Vault."""
