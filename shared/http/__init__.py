"""HTTP basics every service uses: app factory, problem+json errors, health, metrics, OpenAPI."""
