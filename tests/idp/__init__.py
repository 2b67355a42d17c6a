"""A local OpenID Connect provider for tests and the demo (django-oauth-toolkit's OIDC provider in its own
Django project and process), standing in for the government's unified identity service."""
