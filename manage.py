#!/usr/bin/env python
"""Django's command-line utility; configuration errors stop with one clear line."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Django is imported after the settings module is chosen, as in django-admin's own manage.py template.
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"configuration error: {exc}")


if __name__ == "__main__":
    main()
