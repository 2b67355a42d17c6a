"""The /graphql/ endpoint: session login for people, `Authorization: Bearer gwc_…` for systems."""
import uuid

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from exchange.errors import NotAuthenticated
from regions.services.tokens import authenticate


@method_decorator(csrf_exempt, name="dispatch")
class ExchangeGraphQLView(GraphQLView):
    def dispatch(self, request, *args, **kwargs):
        request.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            try:
                request.user = authenticate(header.removeprefix("Bearer ").strip())
            except NotAuthenticated as exc:
                return JsonResponse({"errors": [{"message": exc.message,
                                                 "extensions": {"code": exc.code}}]}, status=401)
        elif request.method == "POST" and not request.user.is_authenticated:
            pass  # anonymous: resolvers raise not_authenticated on anything non-public
        response = super().dispatch(request, *args, **kwargs)
        response["X-Request-Id"] = request.request_id
        return response
