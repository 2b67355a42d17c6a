"""Instances read together load what their query deferred together.

A page read with only the fields it shows (`QuerySet.only()`, or kernel.prepared's statements) leaves the
other fields deferred; Django loads a deferred field with one query per instance at its first read, so a
caller reading such a field on every row of a page would run one query per row (N+1). Instances joined as
peers (`PEERS.join(instances)`) whose model mixes in `PeerLoading` instead load every field deferred on them
for all the peers still missing one, in one query, at the first read of any of them. Peers hold each other
weakly (no reference cycle: a page is freed when its last row is, without waiting for the garbage collector).
"""
import weakref


class Peers:
    KEY = "_peers"

    def join(self, instances):
        group = [weakref.ref(obj) for obj in instances]
        for obj in instances:
            obj.__dict__[self.KEY] = group
        return instances

    def of(self, obj):
        """The instances read with `obj` and still alive (`obj` among them), or None."""
        group = obj.__dict__.get(self.KEY)
        return None if group is None else [peer for peer in (ref() for ref in group) if peer is not None]

    def join_deferred(self, instances, *relations):
        """Join as peers the instances (and, per relation, the related instances already loaded on them,
        e.g. by select_related) that miss a field their query deferred."""
        groups = [instances] + [[i._state.fields_cache.get(name) for i in instances] for name in relations]
        for group in groups:
            group = [x for x in group if x is not None]
            if group and group[0].get_deferred_fields():
                self.join(group)
        return instances


PEERS = Peers()


class PeerLoading:
    """Model mixin: a deferred field read on an instance with peers loads the deferred fields of all of
    them in one query (any other refresh behaves as Django's)."""

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        peers = PEERS.of(self)
        if peers is None or fields is None or from_queryset is not None or any(f in self.__dict__ for f in fields):
            return super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        deferred = self.get_deferred_fields()
        waiting = [p for p in peers if p.pk is not None and not deferred.isdisjoint(p.get_deferred_fields())]
        names = sorted(deferred)
        manager = type(self)._base_manager.db_manager(using or self._state.db)
        loaded = {pk: values for pk, *values in manager.filter(pk__in=[p.pk for p in waiting])
                  .values_list("pk", *names)}
        if self.pk not in loaded:  # gone meanwhile: as Django's refresh does (DoesNotExist)
            return super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        for peer in waiting:
            values = loaded.get(peer.pk)
            if values is None:
                continue
            for name, value in zip(names, values, strict=True):
                if name not in peer.__dict__:
                    setattr(peer, name, value)
        return None

    def __getstate__(self):
        state = super().__getstate__()
        state.pop(Peers.KEY, None)
        return state
