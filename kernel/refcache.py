"""Per-process caches of reference rows (regions, jurisdictions, asset classes): few, read on every list
page, changed rarely and only through the admin or a loader. Joining them into every list query costs the
PostgreSQL planner more than the rows cost to read (an 8-table join plans in ~30-50 ms, the 4-table join
without them in < 1 ms), so list selectors join only the rows that vary and attach these from here.

Freshness: a save or delete of a cached model in this process empties its cache; other processes (each
gunicorn worker) reload at most `ttl` seconds later. A cached instance is shared by every row and request
of the process: treat it as read-only.
"""
import time

from django.db.models.signals import post_delete, post_save


class RowCache:
    def __init__(self, model, *, defer=(), ttl=300.0):
        self.model, self.defer, self.ttl = model, tuple(defer), ttl
        self.rows, self.loaded_at = {}, time.monotonic()
        for signal in (post_save, post_delete):
            signal.connect(self.clear, sender=model, weak=False,
                           dispatch_uid=f"refcache-{model._meta.label}-{id(self)}")

    def clear(self, **_):
        self.rows, self.loaded_at = {}, time.monotonic()

    def get_many(self, ids):
        """{id: instance} for the ids (one query for those not cached yet; none when all are)."""
        if time.monotonic() - self.loaded_at > self.ttl:
            self.clear()
        rows = self.rows
        missing = {i for i in ids if i not in rows and i is not None}
        if missing:
            self.rows.update((row.pk, row) for row in self.model._default_manager.filter(pk__in=missing)
                             .defer(*self.defer))
        return self.rows


def attach(instances, relation, cache):
    """Set `instance.<relation>` from the cache for each instance (no query when all are cached)."""
    if not instances:
        return
    field = instances[0]._meta.get_field(relation)
    attname, name = field.attname, field.cache_name
    keys = [getattr(i, attname) for i in instances]
    get = cache.get_many(keys).get
    for instance, key in zip(instances, keys, strict=True):
        instance._state.fields_cache[name] = get(key)


class Memo:
    """A per-process memo of values derived from rows of `models` (any key → value), emptied, like RowCache,
    when one of those models is saved or deleted in this process and `ttl` seconds after it was filled."""

    def __init__(self, *models, ttl=300.0):
        self.ttl, self.values, self.loaded_at = ttl, {}, time.monotonic()
        for model in models:
            for signal in (post_save, post_delete):
                signal.connect(self.clear, sender=model, weak=False,
                               dispatch_uid=f"refcache-memo-{model._meta.label}-{id(self)}")

    def clear(self, **_):
        self.values, self.loaded_at = {}, time.monotonic()

    def get(self, key, make, *args):
        if time.monotonic() - self.loaded_at > self.ttl:
            self.clear()
        if key not in self.values:
            self.values[key] = make(*args)
        return self.values[key]
