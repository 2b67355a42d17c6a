"""Content-Security-Policy on every response that has none of its own (stored photos carry a stricter,
sandboxing one: exchange/media.py). Scripts, styles, images and requests come from this origin only; no
plugins, no framing, forms post here. Inline scripts stay allowed because GeoDjango's map widget is inline
JavaScript; nothing from another origin can run. The development GraphiQL page (off in production) is left
without the header."""
from django.conf import settings

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        graphiql = (settings.GRAPHIQL and request.path == "/graphql/"
                    and response.get("Content-Type", "").startswith("text/html"))
        if "Content-Security-Policy" not in response and not graphiql:
            response["Content-Security-Policy"] = CSP
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", "same-origin")
        return response
