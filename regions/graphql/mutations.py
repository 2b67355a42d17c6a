import graphene
from graphene_django import DjangoObjectType

from exchange.errors import NotFound
from exchange.graphql.errors import DomainMutation, decode_id
from regions.models import ApiToken, Jurisdiction
from regions.services import tokens


class ApiTokenType(DjangoObjectType):
    class Meta:
        model = ApiToken
        name = "ApiToken"
        fields = ("id", "name", "prefix", "jurisdiction", "can_write", "created_at", "expires_at", "last_used_at",
                  "revoked_at")

    scopes = graphene.List(graphene.NonNull(graphene.String), required=True)


class CreateApiToken(DomainMutation):
    """Create an API token for a member city's system. The key is returned once, here only."""

    class Input:
        jurisdiction_code = graphene.String(required=True)
        name = graphene.String(required=True)
        can_write = graphene.Boolean(default_value=False)
        days = graphene.Int(default_value=90)

    token = graphene.Field(ApiTokenType)
    key = graphene.String(description="The secret, shown once; send as `Authorization: Bearer <key>`.")

    @classmethod
    def perform(cls, info, jurisdiction_code, name, can_write, days):
        jurisdiction = Jurisdiction.objects.filter(code=jurisdiction_code).first()
        if jurisdiction is None:
            raise NotFound(field="jurisdictionCode")
        token, key = tokens.create_token(info.context.user, jurisdiction, name=name, can_write=can_write,
                                         days=days)
        return cls(token=token, key=key)


class RevokeApiToken(DomainMutation):
    class Input:
        token_id = graphene.ID(required=True)

    token = graphene.Field(ApiTokenType)

    @classmethod
    def perform(cls, info, token_id):
        token = ApiToken.objects.filter(pk=decode_id(token_id, "ApiToken", "tokenId")).first()
        if token is None:
            raise NotFound(field="tokenId")
        return cls(token=tokens.revoke_token(info.context.user, token))
