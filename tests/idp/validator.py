"""The claims the provider issues: username, name, email (verified)."""
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "email": "email", "email_verified": "email"}

    def get_additional_claims(self, request):
        user = request.user
        return {"preferred_username": user.username, "name": user.get_full_name() or user.username,
                "email": user.email, "email_verified": bool(user.email)}
