"""Run the test identity provider: `python -m tests.idp.serve PORT CONFIG.json`. CONFIG holds the RSA key (PEM),
the relying party's client (id, secret, redirect URIs) and the users (username, password, email, first and last
name). The database is a fresh SQLite file beside CONFIG; the server binds 127.0.0.1 only."""
import json
import os
import sys
from pathlib import Path


def main(port, config_path):
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    os.environ["IDP_DB"] = str(Path(config_path).with_suffix(".sqlite3"))
    os.environ["IDP_RSA_KEY"] = config["rsa_key"]
    os.environ["IDP_ISSUER"] = f"http://127.0.0.1:{port}/o"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.idp.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for u in config["users"]:
        user = get_user_model().objects.create_user(u["username"], email=u.get("email", ""), password=u["password"],
                                                    first_name=u.get("first_name", ""),
                                                    last_name=u.get("last_name", ""))
        print(f"idp user {user.username} sub={user.pk}", flush=True)
    client = config["client"]
    Application.objects.create(
        name="gongwucang", client_id=client["id"], client_secret=client["secret"], hash_client_secret=False,
        client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]), algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True)
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
